"""The Slack adapter: converts Slack events to :class:`bot.types.Question` and replies to Block Kit.

Everything that imports slack_bolt or slack_sdk lives in this package. This file imports nothing,
so that ``adapters.slack.settings`` (read by ``firstline config``) loads no Slack SDK: the app is
built by ``adapters.slack.app`` and served by ``adapters.slack.server`` (``mount_slack``,
``start_socket_mode``, ``slack_mode``).
"""
