"""Use cases of the notifier; the only place a transaction is opened.

Each takes `NotifierDeps` first (docs/kernel.md, "Use cases and their dependencies"):

- `emails`: `notifier.send_email.v1` commands, erasure, and the operators' e-mail list;
- `delivery`: the sender's one attempt at a due e-mail, and retention;
- `survey_mail`: the survey read model and the survey e-mails made from its events.

Message handlers call them inside the consumer's transaction (with its connection); the
sender worker, the reminder scheduler and the API call those that open their own.
"""
