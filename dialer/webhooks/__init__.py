"""Webhooks for machine clients: the signature (:mod:`.signing`), the retry schedule
and the thread that posts the store's outbox (:mod:`.dispatcher`), and
``trunkline dialer webhooks`` (:mod:`.cli`). The outbox itself is in the store
(:mod:`trunkline.dialer.store.webhooks`)."""
