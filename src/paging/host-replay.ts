import { acceptCounter, freshReplay, type ReplayState } from './auth';

/**
 * A host's anti-replay state for one source of agent messages (src/paging/PROTOCOL.md
 * §4.2 "Agent → host"): messages are ordered by (Agent Epoch, Counter); a newer epoch
 * starts a fresh window (the agent's counter starts at 1 in every epoch), an older one is
 * refused, and within the epoch the RFC 4303 §3.4.3 sliding window of the agent's own
 * table applies (`acceptCounter`), so a reordered datagram still counts once.
 *
 * The host keeps two of these (src/paging/host.ts): one for AREA_ADVERTs (keyed with
 * the area key, which every host of the area holds) and one for REGISTER_ACK and PAGE
 * (keyed with the host's own key, which only the agent shares). A neighbour that holds
 * the area key and forges an advert with a huge epoch can then not make the host refuse
 * the agent's genuine pages.
 */
export class AgentReplay {
  epoch = 0;
  private window: ReplayState = freshReplay();

  /** True (and the state advanced) when (epoch, counter) was not seen and is not too old. */
  accept(epoch: number, counter: bigint): boolean {
    if (epoch < this.epoch || counter === 0n) return false;
    if (epoch > this.epoch) {
      const fresh = freshReplay();
      acceptCounter(fresh, counter);
      this.epoch = epoch;
      this.window = fresh;
      return true;
    }
    return acceptCounter(this.window, counter);
  }

  /** Forgets everything: the next message of any epoch is accepted (see `PagingHost` on an unacknowledged epoch). */
  reset(): void {
    this.epoch = 0;
    this.window = freshReplay();
  }
}
