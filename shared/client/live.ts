// Live messages without gaps, for browsers and Node (the global WebSocket). Every message carries its
// listener's position; this keeps the last one delivered, reconnects with backoff and `?after=` it, asks for
// the replay, delivers in position order and drops repeats (by position and by event id).
export type LiveEvent = { id: string; type: string; aggregateId: string; version: number; payload: Record<string, unknown>; metadata: Record<string, unknown> };
export type LiveOptions = {
  /** ws(s)://host/?token=<JWT>, or ?booking=<id>&bookingToken=<token>; `after` is added here. */
  url: string;
  onEvent: (event: LiveEvent, position: number) => void;
  /** The server cannot replay what was missed (too old): reload what you show, then follow live. */
  onReset?: () => void;
  onStatus?: (status: 'connecting' | 'live' | 'closed') => void;
  /** Resume after this position (one delivered before, e.g. kept across a page load). */
  after?: number;
  backoffMs?: number;
  maxBackoffMs?: number;
  /** How long a gap may stay open before the missing messages are asked for again. */
  gapMs?: number;
  WebSocket?: typeof WebSocket;
};

export class LiveFeed {
  /** The last position delivered, in order; undefined until the first message. */
  position: number | undefined;
  private socket: WebSocket | undefined;
  private readonly held = new Map<number, LiveEvent>();
  private readonly seenIds = new Set<string>();
  private attempt = 0;
  private stopped = false;
  private gapTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly options: LiveOptions;
  /** Resolves when the replay after a (re)connect has been delivered. */
  resumed: Promise<void> = Promise.resolve();
  private resolveResumed: () => void = () => {};

  constructor(options: LiveOptions) {
    this.options = options;
    this.position = options.after;
    this.open();
  }

  private open(): void {
    if (this.stopped) return;
    this.options.onStatus?.('connecting');
    const url = new URL(this.options.url);
    if (this.position !== undefined) url.searchParams.set('after', String(this.position));
    const Socket = this.options.WebSocket ?? globalThis.WebSocket;
    const socket = new Socket(url.toString());
    this.socket = socket;
    this.resumed = new Promise((resolve) => (this.resolveResumed = resolve));
    socket.onopen = () => {
      this.attempt = 0;
      this.options.onStatus?.('live');
      // The connection is registered before the replay is read, so nothing falls between replay and live.
      if (this.position !== undefined) socket.send(JSON.stringify({ action: 'resume' }));
      else this.resolveResumed();
    };
    socket.onmessage = (message) => this.receive(JSON.parse(String(message.data)));
    socket.onclose = () => {
      this.options.onStatus?.('closed');
      if (this.stopped) return;
      const base = Math.min((this.options.backoffMs ?? 250) * 2 ** this.attempt++, this.options.maxBackoffMs ?? 10_000);
      setTimeout(() => this.open(), base / 2 + Math.random() * base);
    };
  }

  private receive(message: { type: string; position?: number; data?: LiveEvent }): void {
    if (message.type === 'resumed') return this.resolveResumed();
    if (message.type === 'reset') {
      this.held.clear();
      this.position = message.position;
      this.options.onReset?.();
      return this.resolveResumed();
    }
    if (message.type !== 'event' || message.position === undefined || !message.data) return;
    this.position ??= message.position - 1;
    if (message.position <= this.position) return; // a repeat: replay and live overlapped at the seam
    this.held.set(message.position, message.data);
    this.flush();
  }

  private flush(): void {
    for (let next = this.position! + 1; this.held.has(next); next++) {
      const event = this.held.get(next)!;
      this.held.delete(next);
      this.position = next;
      if (this.seenIds.has(event.id)) continue;
      this.seenIds.add(event.id);
      if (this.seenIds.size > 5_000) this.seenIds.delete(this.seenIds.values().next().value!);
      this.options.onEvent(event, next);
    }
    clearTimeout(this.gapTimer);
    // A later message came first: wait a moment for the missing one, then ask for it.
    if (this.held.size > 0) {
      this.gapTimer = setTimeout(() => this.socket?.send(JSON.stringify({ action: 'resume', after: this.position })), this.options.gapMs ?? 2_000);
    }
  }

  /** Drops the connection as a network failure would; the feed reconnects and resumes by itself. */
  interrupt(): void {
    this.socket?.close();
  }

  close(): void {
    this.stopped = true;
    clearTimeout(this.gapTimer);
    this.socket?.close();
  }
}
