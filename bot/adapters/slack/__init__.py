"""The Slack adapter: the Bolt app, its listeners and the Block Kit views; no policy rules."""
