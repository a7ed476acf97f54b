"""How long the tests wait for something that should happen before they give up."""

# A liveness bound, not a speed check: a wait returns as soon as its condition holds, so only
# a failing test waits this long. Generous, because a busy machine (a CI runner, another test
# run on the same two cores) can slow an answer from milliseconds to seconds.
LIVENESS_SECONDS = 30.0
