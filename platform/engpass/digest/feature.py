"""The weekly digest: its hourly round, its batches, its sweep and its resender."""

from __future__ import annotations

from engpass import task_names
from engpass.feature import Feature

FEATURE = Feature(
    name="digest",
    tasks=(task_names.SEND_DUE_DIGESTS, task_names.SEND_DIGEST_BATCH, task_names.SWEEP_DIGESTS),
    task_module="workers.tasks.digest",
    resenders={"digest.": "engpass.digest.sending:resend"},
)
