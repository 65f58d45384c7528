"""Owns what TPE searches and knows: the space (`space`), its observations and the one builder
of hyperopt Trials (`observations`), a resumed sweep's history (`resume`), a warm start's prior
(`warm_start`), and the winner on an end of a range (`bounds`)."""
