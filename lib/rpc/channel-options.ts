// One set of channel options for servers and clients: keepalive as Temporal sets it, large messages
// (a `queue 100000` submission travels as one message).
//
// Keepalive: grpc-js pings every keepalive_time whether or not data flows, and drops the connection, with every
// stream on it, when the answer is later than keepalive_timeout. A peer starved of CPU answers late, and one
// whose event loop ran long runs the timeout timer before it reads the answer already waiting in its socket:
// long QueryJobs streams to dq were lost that way with 50 of them on two cores (15 s). A late answer is not a
// dead peer: a peer gets a minute. Servers ping only every five minutes: a client that is slow to read (a
// pipe into a pager, a stopped process) must not lose its stream, and a client that went away is found by its
// connection's end; clients still ping every 30 s, to learn soon of a server that is gone.
export const CHANNEL_OPTIONS = {
  'grpc.keepalive_time_ms': 30_000,
  'grpc.keepalive_timeout_ms': 60_000,
  'grpc.keepalive_permit_without_calls': 1,
  'grpc.http2.min_ping_interval_without_data_ms': 10_000,
  'grpc.max_receive_message_length': 512 * 1024 * 1024,
  'grpc.max_send_message_length': 512 * 1024 * 1024,
} as const;

/** A server's: pings every five minutes (see above). */
export const SERVER_CHANNEL_OPTIONS = { ...CHANNEL_OPTIONS, 'grpc.keepalive_time_ms': 300_000 } as const;
