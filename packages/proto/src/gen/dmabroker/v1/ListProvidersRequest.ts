// Original file: proto/dmabroker/v1/broker.proto


export interface ListProvidersRequest {
}

export interface ListProvidersRequest__Output {
}
