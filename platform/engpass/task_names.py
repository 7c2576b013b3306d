"""Names of the workers' tasks. ``engpass`` enqueues by name and never imports ``workers``."""

SEND_WELCOME = "engpass.accounts.send_welcome"
OUTBOX_SWEEP = "engpass.outbox.sweep"
RECOMPUTE_TRENDS = "engpass.trends.recompute"
RECOMPUTE_ALL_TRENDS = "engpass.trends.recompute_all"
RECOMPUTE_TRENDS_BATCH = "engpass.trends.recompute_batch"
RESEND_MAIL = "engpass.notifications.resend"
