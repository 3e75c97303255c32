// Original file: proto/dmabroker/v1/types.proto


export interface Interrupt {
}

export interface Interrupt__Output {
}
