// The Collector gRPC service over the AdStore. Any daemon may advertise (lib/rpc/authz.ts); each ad is
// checked here against the daemon's roles and host, so no host can advertise, replace or withdraw another's.
import type * as grpc from '@grpc/grpc-js';
import { ClassAd, parseExpr } from '../../grammar/classad/index.js';
import { DschedError } from '../../lib/errors.js';
import type { Identity } from '../../lib/rpc/auth.js';
import { advertiserRole, hostOfName, sameHost } from '../../lib/rpc/authz.js';
import { EncodedReply, type CallContext, type ServiceImpl } from '../../lib/rpc/server.js';
import { proto } from '../../lib/rpc/proto.js';
import type { AdvertiseRequest__Output } from '../../lib/rpc/generated/dsched/v1/AdvertiseRequest.js';
import type { CollectorQuery__Output } from '../../lib/rpc/generated/dsched/v1/CollectorQuery.js';
import type { InvalidateRequest__Output } from '../../lib/rpc/generated/dsched/v1/InvalidateRequest.js';
import type { WatchRequest__Output } from '../../lib/rpc/generated/dsched/v1/WatchRequest.js';
import type { Logger } from '../../lib/log.js';
import type { AdStore } from './ad-store.js';
import type { Admission } from './admission.js';
import type { CreateJoinTokenRequest__Output } from '../../lib/rpc/generated/dsched/v1/CreateJoinTokenRequest.js';
import type { JoinRequest__Output } from '../../lib/rpc/generated/dsched/v1/JoinRequest.js';
import type { RevokeRequest__Output } from '../../lib/rpc/generated/dsched/v1/RevokeRequest.js';

/** The daemon may act on ads of this type (by its roles) named for its own host. */
function checkAdName(identity: Identity, type: string, name: string): string {
  const role = advertiserRole(type);
  if (identity.kind !== 'daemon')
    throw new DschedError('PERMISSION_DENIED', `only pool daemons may advertise ${type} ads`);
  if (!role)
    throw new DschedError('PERMISSION_DENIED', `${type} is not an ad type of the pool: refused from ${identity.name}`);
  if (!identity.roles.has(role))
    throw new DschedError('PERMISSION_DENIED', `${type} ads come from a ${role}; ${identity.name} is not one`);
  if (!sameHost(hostOfName(name), identity.host))
    throw new DschedError(
      'PERMISSION_DENIED',
      `the ${type} ad "${name}" belongs to host ${hostOfName(name)}; ${identity.name} may advertise only its own host's ads`,
      {
        hint: "a daemon's name must end in its host name (STARTD_NAME / SCHEDD_NAME = NAME becomes NAME@host)",
      },
    );
  return role;
}

/** A string literal without escapes (`"slot1@host"`, as daemons write Name and Machine). */
const PLAIN_STRING = /^"[^"\\\x00-\x1f\x7f]*"$/;

/**
 * Every attribute of an update must parse (a watcher would choke on one that does not), and its Name and
 * Machine are checked. A busy startd sends its slot ads again and again with a few attributes changed (a
 * claim's next job): only the values that differ from the ad stored under that name are parsed (parsing
 * depends on the text alone, and the stored ones parsed), no ClassAd is built, and Name and Machine are
 * read from their text when they are plain strings, as daemons write them; any other spelling is evaluated
 * in the whole ad.
 */
function nameAndMachine(
  attrs: Record<string, string>,
  stored: Record<string, string> | undefined,
): { name: unknown; machine: unknown } {
  let nameText: string | undefined;
  let machineText: string | undefined;
  for (const k in attrs) {
    const text = attrs[k]!;
    if (stored?.[k] !== text) parseExpr(text, { file: `<attribute ${k}>`, line: 1, column: 1 });
    // names are case-insensitive; of two spellings the last wins, as in a parsed ad
    if (k.length === 4 && k.toLowerCase() === 'name') nameText = text;
    else if (k.length === 7 && k.toLowerCase() === 'machine') machineText = text;
  }
  const plain = (t: string | undefined) => t === undefined || PLAIN_STRING.test(t);
  if (plain(nameText) && plain(machineText))
    return { name: nameText?.slice(1, -1), machine: machineText?.slice(1, -1) };
  const ad = ClassAd.fromRecord(attrs);
  return { name: ad.lookupJS('Name'), machine: ad.lookupJS('Machine') };
}

/** Checked before any ad is stored: the type fits the daemon's role, the name and the Machine attribute its host. */
function checkAd(
  identity: Identity,
  type: string,
  name: string,
  attrs: Record<string, string>,
  stored?: Record<string, string>,
): void {
  checkAdName(identity, type, name);
  const host = (identity as { host: string }).host;
  const { name: adName, machine } = nameAndMachine(attrs, stored);
  if (adName != null && (typeof adName !== 'string' || adName.toLowerCase() !== name.toLowerCase()))
    throw new DschedError(
      'PERMISSION_DENIED',
      `the ${type} ad "${name}" says its Name is ${JSON.stringify(adName)}: refused`,
    );
  const needsMachine = ['machine', 'scheduler'].includes(type.toLowerCase());
  if ((needsMachine || machine != null) && (typeof machine !== 'string' || !sameHost(machine, host)))
    throw new DschedError(
      'PERMISSION_DENIED',
      `the ${type} ad "${name}" names Machine ${JSON.stringify(machine ?? null)}; ${identity.name} may advertise only its own host`,
    );
}

/** How far (in bytes of ad text, about) a Watch reader may fall behind the changes before it is cut off. */
const WATCH_BACKLOG_BYTES = 64 << 20;

const sizeOf = (name: string, attrs: Record<string, string> | undefined) => {
  let n = 64 + name.length;
  for (const k in attrs) n += k.length + attrs[k]!.length;
  return n;
};

export function collectorService(
  store: AdStore,
  log: Logger,
  defaultLifetime: () => number,
  admission: Admission,
  /** QUERY_CPU_LIMIT: seconds of the collector's time one query may take */
  queryCpuLimitSec: () => number = () => 30,
): ServiceImpl {
  // A change goes to every watcher (the negotiator, the web daemon, dstatus -watch, …) as the same bytes:
  // encoded once, for the first, rather than once per watcher.
  const encodeChange = proto().Collector.service.Watch.responseSerialize;
  let last:
    { attrs: Record<string, string>; kind: string; name: string; type: string; reply: EncodedReply } | undefined;
  const encoded = (type: string, name: string, kind: string, attrs: Record<string, string>): EncodedReply => {
    if (last?.attrs === attrs && last.kind === kind && last.name === name && last.type === type) return last.reply;
    const reply = new EncodedReply(
      encodeChange(kind === 'removed' ? { type, name, kind } : { type, name, kind, ad: { attrs } }),
    );
    last = { attrs, kind, name, type, reply };
    return reply;
  };
  // A watcher that does not apply renewals gets a renewal as the ad changed whole: one copy for all of them.
  let lastWhole: { texts: Record<string, string>; attrs: Record<string, string> } | undefined;
  const whole = (type: string, name: string, texts: Record<string, string>): Record<string, string> => {
    if (lastWhole?.texts !== texts) lastWhole = { texts, attrs: store.stored(type, name) ?? texts };
    return lastWhole.attrs;
  };
  return {
    unary: {
      CreateJoinToken(req: CreateJoinTokenRequest__Output, ctx: CallContext) {
        const t = admission.createJoinToken(req.ttl);
        log.info({ by: ctx.identity.name, expires: t.expires }, 'join token made');
        return t;
      },
      async Join(req: JoinRequest__Output, ctx: CallContext) {
        try {
          const r = await admission.join(req.token, req.host, req.public_key);
          log.info({ host: req.host, peer: ctx.peer }, 'host joined the pool');
          return r;
        } catch (e) {
          log.warn({ host: req.host, peer: ctx.peer, err: (e as Error).message }, 'join refused');
          throw e;
        }
      },
      Revoke(req: RevokeRequest__Output, ctx: CallContext) {
        const serials = admission.revoke(req.host);
        const removed = store.removeHost(req.host);
        log.warn({ host: req.host, serials, ads: removed, by: ctx.identity.name }, 'host revoked');
        return { serials, ads_removed: removed };
      },
      Advertise(req: AdvertiseRequest__Output, ctx: CallContext) {
        // all or nothing: one ad that is not the caller's refuses the whole update
        for (const u of req.updates) {
          try {
            // a renewal is an update of that ad by its owner: the same checks of type and name
            if (u.renew) checkAdName(ctx.identity, u.type, u.name);
            else checkAd(ctx.identity, u.type, u.name, u.ad?.attrs ?? {}, store.stored(u.type, u.name));
          } catch (e) {
            log.warn({ type: u.type, name: u.name, from: ctx.identity.name, err: (e as Error).message }, 'refused ad');
            throw e;
          }
        }
        let accepted = 0;
        const stale: string[] = [];
        for (const u of req.updates) {
          const lifetime = u.lifetime > 0 ? u.lifetime : defaultLifetime();
          if (u.renew) {
            if (store.renew(u.type, u.name, u.instance, u.version, lifetime, u.ad?.attrs)) accepted++;
            else stale.push(u.name);
            continue;
          }
          try {
            store.update(u.type, u.name, u.instance, u.ad?.attrs ?? {}, lifetime, u.version);
            accepted++;
          } catch (e) {
            log.error({ type: u.type, name: u.name, err: (e as Error).message }, 'refused ad');
            throw e;
          }
        }
        return { accepted, renewals: true, stale, renewal_loads: true };
      },
      Invalidate(req: InvalidateRequest__Output, ctx: CallContext) {
        for (const n of req.names) checkAdName(ctx.identity, req.type, n);
        store.invalidate(req.type, req.names, req.instance);
        return {};
      },
      async Query(req: CollectorQuery__Output) {
        const ads = await store.query(req.type, req.constraint, req.projection, queryCpuLimitSec());
        return { ads: ads.map((attrs) => ({ attrs })) };
      },
    },
    stream: {
      Watch(req: WatchRequest__Output, call: grpc.ServerWritableStream<unknown, unknown>, ctx: CallContext) {
        const types = new Set(req.types.map((t) => t.toLowerCase()));
        const wanted = (type: string) => !types.size || types.has(type.toLowerCase());
        return new Promise<void>((resolve, reject) => {
          // bytes (about) written but not yet taken by the transport: a reader that stops reading would
          // make the collector keep every change of the pool for it
          let waiting = 0;
          let bound = WATCH_BACKLOG_BYTES;
          const send = (msg: object, size: number) => {
            waiting += size;
            call.write(msg, () => (waiting -= size));
          };
          // The listener goes on before the current ads are sent, in the same turn: no change falls between.
          const off = store.onChange((type, name, kind, attrs) => {
            if (!wanted(type)) return;
            // A renewal moves the load averages of every slot of a loaded host at every update: as the whole ad
            // it was 1179 bytes to encode, send, decode and keep as a new version, as its texts 123 (the
            // collector's part 17 against 7 µs, bench/collector-updates.ts).
            if (kind === 'renewed' && !req.renewals) [kind, attrs] = ['updated', whole(type, name, attrs)];
            send(encoded(type, name, kind, attrs), sizeOf(name, attrs));
            if (waiting <= bound) return;
            off();
            log.warn({ by: ctx.identity.name, peer: ctx.peer, waiting }, 'watcher cut off: it reads too slowly');
            reject(
              new DschedError(
                'WATCHER_TOO_SLOW',
                `the ad-change stream fell more than ${WATCH_BACKLOG_BYTES >> 20} MB behind the pool`,
                { hint: 'the stream was ended; watching again starts from the ads as they are' },
              ),
            );
          });
          const stop = () => {
            off();
            resolve();
          };
          call.on('cancelled', stop);
          call.on('close', stop);
          call.on('error', stop);
          for (const a of store.current())
            if (wanted(a.type))
              send({ type: a.type, name: a.name, kind: 'added', ad: { attrs: a.attrs } }, sizeOf(a.name, a.attrs));
          // the current ads go at once, however many: the bound is on the changes that follow them
          bound += waiting;
          call.write({ type: '', name: '', kind: 'hello' });
        });
      },
    },
  };
}
