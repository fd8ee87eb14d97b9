"""A labelled recall set: what an agent swarm keeps in memory, and what it later asks.

``MEMORIES`` are entries as agents write them (decisions, incidents, conventions,
coordination notes), each under its key. ``PARAPHRASES`` ask for one of them in
other words than the ones stored (a person's or an agent's question: keyword
search, which ANDs the words, finds close to nothing by construction).
``IDENTIFIERS`` ask for one by an exact token it holds (an error code, a ticket, a
pull request, a host), where keyword search shines and meaning alone may not.
Each question is labelled with the key that answers it. Written for this
benchmark; none of it comes from the model's training data.
"""

from __future__ import annotations

MEMORIES: dict[str, str] = {
    "knowledge/auth/decision": "We decided to use JWT tokens for authentication of API users; "
    "sessions on the server were dropped.",
    "knowledge/auth/rotation": "Signing keys for access tokens rotate every 30 days via the "
    "key-rotator cron on vault-2.",
    "knowledge/ci/pipeline": "The deploy pipeline runs on GitHub Actions and pushes container "
    "images to the internal registry.",
    "knowledge/ci/flaky": "test_checkout_totals is flaky on CI because it depends on the wall "
    "clock; retried twice before failing.",
    "knowledge/db/migrations": "Database schema migrations must stay backwards compatible for "
    "one release so old pods keep working during a rollout.",
    "knowledge/db/engine": "Production data lives in PostgreSQL 15 with a streaming replica in "
    "the second zone.",
    "knowledge/db/pool": "PgBouncer runs in transaction mode; prepared statements are disabled "
    "in the ORM for that reason.",
    "knowledge/errors/conn-reset": "ERR_CONN_RESET in the gateway logs means the load balancer "
    "dropped an idle keep-alive connection after 60 seconds.",
    "knowledge/errors/oom": "Workers get OOMKilled when the image thumbnailer processes files "
    "over 40 MB; the limit is now enforced at upload.",
    "knowledge/incidents/INC-4821": "Incident INC-4821: the payment service was down for 47 "
    "minutes because its TLS certificate expired.",
    "knowledge/incidents/INC-5002": "Incident INC-5002: search results were stale for two hours "
    "after the indexer queue filled the disk.",
    "knowledge/frontend/state": "The web app keeps client state in Zustand stores; Redux was "
    "removed in March.",
    "knowledge/frontend/styles": "Styling uses Tailwind utility classes; no new CSS files "
    "except for third-party overrides.",
    "knowledge/api/pagination": "List endpoints page with opaque cursors, never offsets, and "
    "return at most 100 items per page.",
    "knowledge/api/versioning": "Breaking API changes go to a new /v2 prefix; /v1 stays for "
    "six months after the announcement.",
    "knowledge/api/ratelimit": "Each API key may send 600 requests per minute; excess requests "
    "get HTTP 429 with a Retry-After header.",
    "knowledge/infra/regions": "We run in eu-west-1 and us-east-1; customer data never leaves "
    "the region it was created in.",
    "knowledge/infra/dns": "DNS is managed in Route 53 through Terraform; manual console edits "
    "are reverted nightly.",
    "knowledge/infra/backups": "Nightly database backups go to S3 with 35 days of retention "
    "and are restore-tested every Monday.",
    "knowledge/infra/host-db7": "Host db-7.internal has a failing disk; do not schedule heavy "
    "batch jobs there until it is replaced.",
    "knowledge/process/reviews": "Every pull request needs one approving review from a code "
    "owner before it can be merged.",
    "knowledge/process/release": "Releases are cut on Tuesdays; a hotfix may ship any day with "
    "two approvals.",
    "knowledge/process/pr-482": "PR #482 moved email sending to a background queue; it reverts "
    "cleanly if delivery slows down.",
    "knowledge/security/secrets": "Secrets live in Vault; never commit them, and .env files are "
    "blocked by a pre-commit hook.",
    "knowledge/security/deps": "Dependabot opens update PRs weekly; security fixes are merged "
    "within 48 hours.",
    "knowledge/observability/tracing": "Distributed traces go to Tempo through the "
    "OpenTelemetry collector; sample rate is 10 percent.",
    "knowledge/observability/alerts": "Paging alerts fire only for user-facing symptoms; "
    "resource warnings go to a Slack channel.",
    "knowledge/ml/model": "The recommendation model retrains every Sunday on the previous four "
    "weeks of clicks.",
    "knowledge/product/pricing": "The team plan costs 12 dollars per seat per month, billed "
    "yearly with a 14-day free trial.",
    "knowledge/product/flags": "Feature flags are served by Unleash; stale flags are removed "
    "two sprints after full rollout.",
    "swarm/shared/architect/queue": "Architect: the job queue is Redis Streams with consumer "
    "groups, one group per worker type.",
    "swarm/shared/tester/coverage": "Tester: line coverage must not drop below 85 percent on "
    "the core packages.",
    "swarm/shared/coder/style": "Coder: Python code is formatted with ruff and type-checked "
    "with mypy in strict mode.",
    "coordination/reviewer/status": "Reviewer is reading the caching layer changes and will "
    "report before noon.",
    "coordination/planner/blocker": "Planner is blocked: waiting for credentials to the staging "
    "cluster from the ops team.",
    "knowledge/cache/policy": "Responses are cached in Redis for five minutes; a write to a "
    "product invalidates its keys.",
    "knowledge/mobile/push": "Push notifications go through Firebase on Android and APNs on "
    "iOS, batched per user every minute.",
    "knowledge/support/escalation": "Customer tickets tagged urgent are escalated to the "
    "on-call engineer within 15 minutes.",
    "knowledge/data/retention": "Analytics events are deleted after 13 months to comply with "
    "the privacy policy.",
    "knowledge/build/toolchain": "The monorepo builds with Bazel; remote cache hits cut CI time "
    "roughly in half.",
}

PARAPHRASES: list[tuple[str, str]] = [
    ("how do we log users in", "knowledge/auth/decision"),
    ("how often are the signing keys changed", "knowledge/auth/rotation"),
    ("where do builds and deployments run", "knowledge/ci/pipeline"),
    ("which test fails randomly in the build", "knowledge/ci/flaky"),
    ("rules for changing the schema safely during a rollout", "knowledge/db/migrations"),
    ("what database do we use in prod", "knowledge/db/engine"),
    ("why are prepared statements turned off", "knowledge/db/pool"),
    ("what caused the payments outage", "knowledge/incidents/INC-4821"),
    ("why were search results out of date", "knowledge/incidents/INC-5002"),
    ("what do we use for frontend state management", "knowledge/frontend/state"),
    ("how should I write CSS for the web app", "knowledge/frontend/styles"),
    ("how do list endpoints return large result sets", "knowledge/api/pagination"),
    ("what happens when a client calls the API too often", "knowledge/api/ratelimit"),
    ("where is customer data stored geographically", "knowledge/infra/regions"),
    ("how long are database backups kept", "knowledge/infra/backups"),
    ("who has to approve a code change before merge", "knowledge/process/reviews"),
    ("which weekday do we ship new versions", "knowledge/process/release"),
    ("where should passwords and API keys be kept", "knowledge/security/secrets"),
    ("how quickly are vulnerable libraries patched", "knowledge/security/deps"),
    ("where can I see request traces", "knowledge/observability/tracing"),
    ("when does someone get woken up by an alert", "knowledge/observability/alerts"),
    ("how much does the team subscription cost", "knowledge/product/pricing"),
    ("what tool toggles features for gradual rollout", "knowledge/product/flags"),
    ("what message broker do the background workers consume from", "swarm/shared/architect/queue"),
    ("minimum test coverage we require", "swarm/shared/tester/coverage"),
    ("what is the planner waiting on", "coordination/planner/blocker"),
    ("how long do we keep API responses in the cache", "knowledge/cache/policy"),
    ("how are mobile notifications delivered", "knowledge/mobile/push"),
    ("when is user tracking data purged", "knowledge/data/retention"),
    ("why do worker processes crash on big uploads", "knowledge/errors/oom"),
]

IDENTIFIERS: list[tuple[str, str]] = [
    ("ERR_CONN_RESET", "knowledge/errors/conn-reset"),
    ("INC-4821", "knowledge/incidents/INC-4821"),
    ("INC-5002", "knowledge/incidents/INC-5002"),
    ("PR #482", "knowledge/process/pr-482"),
    ("db-7.internal", "knowledge/infra/host-db7"),
    ("OOMKilled", "knowledge/errors/oom"),
    ("PgBouncer", "knowledge/db/pool"),
    ("Zustand", "knowledge/frontend/state"),
    ("Tailwind", "knowledge/frontend/styles"),
    ("HTTP 429 Retry-After", "knowledge/api/ratelimit"),
    ("eu-west-1", "knowledge/infra/regions"),
    ("Route 53", "knowledge/infra/dns"),
    ("vault-2", "knowledge/auth/rotation"),
    ("test_checkout_totals", "knowledge/ci/flaky"),
    ("Unleash", "knowledge/product/flags"),
    ("Redis Streams", "swarm/shared/architect/queue"),
    ("Tempo OpenTelemetry", "knowledge/observability/tracing"),
    ("Bazel", "knowledge/build/toolchain"),
    ("APNs", "knowledge/mobile/push"),
    ("Dependabot", "knowledge/security/deps"),
]
