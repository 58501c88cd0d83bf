// The shapes of the HTTP API: each handler validates its input with these, and /v1/openapi.json is generated
// from the same objects, so the document cannot drift from what is enforced.
import { z } from '@hono/zod-openapi';

/** `cluster` or `cluster.proc`: digits only, bounded, so a path parameter cannot smuggle anything. */
export const JobIdText = z
  .string()
  .regex(/^\d{1,15}(\.\d{1,9})?$/, 'a job id is CLUSTER or CLUSTER.PROC')
  .openapi({ param: { name: 'id', in: 'path' }, example: '12.0' });

export const JobIdParams = z.object({ id: JobIdText });

const Expr = z.string().max(4096);
const Owner = z.string().regex(/^[A-Za-z0-9._@-]{1,64}$/, 'a user name');

export const Ad = z.record(z.string(), z.unknown()).openapi('Ad', {
  description:
    'A ClassAd as `dq -json` prints it: HTCondor attribute names, literal values, other expressions as "/Expr(…)/"',
});

export const Counts = z
  .object({
    total: z.number(),
    idle: z.number(),
    running: z.number(),
    held: z.number(),
    completed: z.number(),
    removed: z.number(),
    suspended: z.number(),
  })
  .openapi('JobCounts');

export const ErrorBody = z
  .object({ error: z.object({ code: z.string(), message: z.string(), hint: z.string().optional() }) })
  .openapi('Error');

export const STATES = ['idle', 'running', 'held', 'completed', 'removed', 'suspended'] as const;

export const JobsQuery = z.object({
  constraint: Expr.optional().openapi({
    description: 'a ClassAd expression every job returned satisfies',
    example: 'RequestCpus > 1',
  }),
  owner: Owner.optional(),
  state: z.enum(STATES).optional(),
  cluster: z
    .string()
    .regex(/^\d{1,15}$/)
    .optional()
    .openapi({ description: 'only the jobs of this cluster' }),
  projection: z
    .string()
    .max(2048)
    .regex(/^[A-Za-z0-9_,]*$/)
    .optional()
    .openapi({ description: 'comma-separated attribute names (default: all)' }),
  after: z
    .string()
    .regex(/^\d{1,15}\.\d{1,9}$/)
    .optional()
    .openapi({ description: 'paging: jobs after this id (the `next` of the previous page)' }),
  limit: z.coerce.number().int().min(1).max(5000).default(100),
});

/** An attribute left out of a job an answer shows: its stored text is no ClassAd expression (dq says so on stderr). */
export const Unreadable = z
  .object({
    job: z.string().openapi({ example: '12.3' }),
    attribute: z.string(),
    code: z.string().openapi({ example: 'CLASSAD_SYNTAX' }),
    error: z.string(),
  })
  .openapi('UnreadableAttribute');

/** One job's ad; `$unreadable` beside its attributes, where an attribute (`+unreadable`) could not clash. */
export const JobReply = z
  .object({ $unreadable: z.array(Unreadable).optional() })
  .catchall(z.unknown())
  .openapi('Job', {
    description: 'A job ad as `dq -json` prints it and, when attributes were left out of it, `$unreadable` naming them',
  });

export const JobsReply = z
  .object({
    jobs: z.array(Ad),
    next: z.string().nullable(),
    counts: Counts.optional(),
    unreadable: z.array(Unreadable).optional(),
  })
  .openapi('Jobs');

export const HistoryQuery = z.object({
  constraint: Expr.optional(),
  owner: Owner.optional(),
  projection: JobsQuery.shape.projection,
  after: z
    .string()
    .regex(/^\d{1,15}\.\d{1,9}(@\d{1,15})?$/)
    .optional()
    .openapi({
      description:
        'paging: the jobs that finished before this one (the `next` of the previous page: CLUSTER.PROC@KEY, the key saying where it stood, so paging goes on after the job has left the history)',
    }),
  limit: z.coerce.number().int().min(1).max(5000).default(100),
});

export const BatchesQuery = z.object({
  owner: Owner.optional(),
  state: z.enum(STATES).optional(),
  offset: z.coerce.number().int().min(0).default(0),
  limit: z.coerce.number().int().min(1).max(5000).default(100),
});

export const Batch = z
  .object({
    owner: z.string(),
    name: z.string(),
    clusters: z.array(z.number()),
    submitted: z.number(),
    done: z.number(),
    running: z.number(),
    idle: z.number(),
    held: z.number(),
    total: z.number(),
    progress: z.number().nullable(),
  })
  .openapi('Batch');

export const BatchesReply = z
  .object({ batches: z.array(Batch), total: z.number(), counts: Counts, ready: z.boolean() })
  .openapi('Batches');

export const SlotsQuery = z.object({ constraint: Expr.optional() });
export const SlotsReply = z.object({ slots: z.array(Ad), totals: z.record(z.string(), z.number()) }).openapi('Slots');

export const Submitter = z
  .object({
    name: z.string(),
    idle: z.number(),
    running: z.number(),
    held: z.number(),
    effectivePriority: z.number().nullable(),
    realPriority: z.number().nullable(),
    priorityFactor: z.number().nullable(),
    resourcesInUse: z.number().nullable(),
  })
  .openapi('Submitter');
export const SubmittersReply = z
  .object({ submitters: z.array(Submitter), prioritiesError: z.string().optional() })
  .openapi('Submitters');

export const PoolReply = z
  .object({
    slots: z.record(z.string(), z.number()),
    jobs: Counts,
    utilisation: z
      .array(z.tuple([z.number(), z.number(), z.number()]))
      .openapi({ description: '[epoch seconds, busy cpus, total cpus] every 10 s' }),
    submitters: z.array(z.object({ name: z.string(), idle: z.number(), running: z.number(), held: z.number() })),
  })
  .openapi('Pool');

export const ActionBody = z
  .object({
    action: z.enum(['hold', 'release', 'remove', 'prio']),
    ids: z.array(JobIdText).max(10_000).default([]),
    constraint: Expr.optional(),
    reason: z.string().max(1024).optional(),
    value: z
      .string()
      .regex(/^[+-]?\d{1,9}$/)
      .optional()
      .openapi({ description: 'prio: the new priority, or +N / -N' }),
  })
  .openapi('Action');

export const ActionReply = z
  .object({
    matched: z.number(),
    results: z.array(
      z.object({
        id: z.string(),
        ok: z.boolean(),
        error: z.string(),
        code: z.string().optional().openapi({
          description:
            'a job not acted on: its error code (JOB_NOT_FOUND, PERMISSION_DENIED, JOB_STATE, ...; docs/errors.md)',
        }),
      }),
    ),
  })
  .openapi('ActionResults');

export const SubmitBody = z
  .object({
    text: z
      .string()
      .min(1)
      .max(1 << 20)
      .openapi({ description: 'a submit description, or a script whose first lines are #PBS directives' }),
    cwd: z
      .string()
      .max(4096)
      .optional()
      .openapi({ description: "absolute submit directory (default: the user's home)" }),
    pbs: z.boolean().optional().openapi({ description: 'treat the text as a #PBS script (default: detected)' }),
    umask: z
      .string()
      .regex(/^0?[0-7]{1,3}$/, 'a umask in octal, as `umask` prints it (0022, 077)')
      .optional()
      .openapi({
        description:
          "the umask the jobs and their files are made under, in octal as `umask` prints it (default: 0077, private to the owner: a request has no shell's umask to inherit)",
      }),
  })
  .openapi('Submission');
export const SubmitReply = z
  .object({ cluster: z.number(), procs: z.number(), warnings: z.array(z.string()) })
  .openapi('Submitted');

export const AnalyzeReply = z
  .object({ text: z.string(), unreadable: z.array(Unreadable).optional() })
  .openapi('Analysis');

export const OutputQuery = z.object({
  stream: z.enum(['stdout', 'stderr']).default('stdout'),
  tail: z.coerce
    .number()
    .int()
    .min(1)
    .max(1 << 20)
    .default(64 * 1024),
  from: z.coerce
    .number()
    .int()
    .min(0)
    .optional()
    .openapi({ description: 'read from this byte offset (the `size` of the previous answer) to follow the file' }),
});
export const OutputReply = z
  .object({
    path: z.string(),
    size: z.number(),
    offset: z.number(),
    text: z.string(),
    source: z.enum(['file']),
    note: z.string().optional(),
  })
  .openapi('JobOutput');

export const EventsReply = z
  .object({ events: z.array(z.record(z.string(), z.unknown())), log: z.string() })
  .openapi('JobEventLog');

export const DagNode = z
  .object({ name: z.string(), state: z.string(), parents: z.array(z.string()), job: z.string().nullable() })
  .openapi('DagNode');
export const DagReply = z
  .object({
    dag: Ad,
    file: z.string(),
    nodes: z.array(DagNode),
    counts: z.record(z.string(), z.number()),
    rescue: z.array(z.object({ file: z.string(), text: z.string() })),
    error: z.string().optional(),
    unreadable: z.array(Unreadable).optional(),
  })
  .openapi('Dag');
export const DagsReply = z.object({ dags: z.array(Ad), unreadable: z.array(Unreadable).optional() }).openapi('Dags');

export const WhoAmI = z
  .object({ user: z.string().nullable(), admin: z.boolean(), anonymousReads: z.boolean() })
  .openapi('WhoAmI');
