// The client's live feed against a stand-in socket (the browser's WebSocket is not ours to run here): it asks
// for the replay after the last position, delivers in position order, drops repeats, and reconnects from where
// it was.
import { describe, expect, it } from 'vitest';
import { LiveFeed, type LiveEvent } from '../../shared/client/live.ts';

class Socket {
  static opened: Socket[] = [];
  sent: string[] = [];
  onopen?: () => void;
  onmessage?: (message: { data: string }) => void;
  onclose?: () => void;
  readonly url: string;
  constructor(url: string) {
    this.url = url;
    Socket.opened.push(this);
  }
  send(data: string) {
    this.sent.push(data);
  }
  close() {
    this.onclose?.();
  }
  receive(message: unknown) {
    this.onmessage?.({ data: JSON.stringify(message) });
  }
}

const event = (n: number, id = `e${n}`): LiveEvent => ({ id, type: 'booking.updated', aggregateId: 'b1', version: n, payload: {}, metadata: {} });
const message = (position: number, id?: string) => ({ type: 'event', position, data: event(position, id) });

describe('the live feed', () => {
  it('resumes after its position, orders by position and drops repeats at the seam', async () => {
    Socket.opened = [];
    const delivered: number[] = [];
    const feed = new LiveFeed({ url: 'ws://x/?token=t', after: 3, onEvent: (_, position) => delivered.push(position), WebSocket: Socket as never, backoffMs: 1, gapMs: 5 });
    const socket = Socket.opened[0]!;
    expect(new URL(socket.url).searchParams.get('after')).toBe('3');
    socket.onopen!();
    expect(socket.sent).toEqual([JSON.stringify({ action: 'resume' })]);
    socket.receive(message(5));
    socket.receive(message(4));
    socket.receive(message(4)); // live and replay both
    socket.receive({ type: 'resumed', position: 5 });
    socket.receive(message(6, 'e5')); // the same event under another position is still one event
    socket.receive(message(8));
    expect(delivered).toEqual([4, 5]);
    await feed.resumed;
    // The gap at 7 is asked for again.
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(socket.sent.at(-1)).toBe(JSON.stringify({ action: 'resume', after: 6 }));
    socket.receive(message(7));
    expect(delivered).toEqual([4, 5, 7, 8]);

    socket.close();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(new URL(Socket.opened[1]!.url).searchParams.get('after')).toBe('8');
    Socket.opened[1]!.onopen!();
    Socket.opened[1]!.receive({ type: 'reset', position: 20 });
    Socket.opened[1]!.receive(message(21));
    expect(delivered.at(-1)).toBe(21);
    feed.close();
  });
});
