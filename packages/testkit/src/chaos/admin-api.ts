import { AdminClient } from "@dmabroker/client";
import { isPresentProviderState } from "@dmabroker/core";
import type { ProviderSnapshot } from "@dmabroker/core";

/** The SDK's typed admin client, plus what the harnesses ask most: the present incarnation of an id. */
export class AdminApi extends AdminClient {
  constructor(baseUrl: string, token?: string, timeoutMs = 5_000) {
    super(baseUrl, { token, timeoutMs });
  }

  /** The present incarnation of a provider id (online, suspect or draining), if any. */
  async present(providerId: string): Promise<ProviderSnapshot | undefined> {
    return (await this.providers()).find((p) => p.providerId === providerId && isPresentProviderState(p.state));
  }
}
