"""How many accounts a run scans at once when WORKERS is not set: sized to the estate and the CPU.

IAM throttles per account, so one account cannot go faster than its own limit (about 20 requests/s
before `Throttling`); more accounts in flight is what makes a run faster, until the CPU is the limit.
Each API call costs ~2.5-3 ms of CPU in botocore (signing, serialising, parsing: docs/performance.md),
so one vCPU serves ~16 accounts at their limit. Accounts also spend much of their time waiting without
CPU (AssumeRole, credential report generation, throttling backoff), so the pool is oversubscribed 2x.
Lambda allocates CPU in proportion to memory, one full vCPU at 1,769 MB
(https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html).
"""

from __future__ import annotations

import math

LAMBDA_MB_PER_VCPU = 1769
ACCOUNTS_PER_VCPU = 32  # ~16 accounts at their throttle limit per vCPU, oversubscribed 2x for waits
# Memory kept for the interpreter, botocore's models and finalize; then per account in flight: its
# spoke client, connection pool and inventory while it is being collected.
BASE_MB = 160
MB_PER_ACCOUNT = 8
MIN_POOL = 4
MAX_POOL = 64  # the WORKERS bound, and the hub client's connection pool


def account_pool_size(accounts: int, memory_mb: int | None, cpus: int) -> int:
    """Accounts to scan at once: by Lambda memory (or the machine's CPUs), never more than the estate."""
    vcpus = memory_mb / LAMBDA_MB_PER_VCPU if memory_mb else max(1, cpus)
    by_cpu = math.ceil(vcpus * ACCOUNTS_PER_VCPU)
    by_memory = (memory_mb - BASE_MB) // MB_PER_ACCOUNT if memory_mb else MAX_POOL
    pool = max(MIN_POOL, min(by_cpu, by_memory, MAX_POOL))
    return max(1, min(pool, accounts))
