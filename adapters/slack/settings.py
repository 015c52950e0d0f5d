"""The Slack adapter's settings: the ``[slack]`` table of ``firstline.toml`` (keys = the field
names below) and Slack's own environment variable names.

Cheap to import (no slack_bolt, no slack_sdk): ``firstline config`` loads it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from bot.settings import SettingsBase, http_url, setting


@dataclass(frozen=True)
class SlackSettings(SettingsBase):
    section: ClassVar[str] = "slack"

    bot_token: str = setting("", "SLACK_BOT_TOKEN", "Bot token (xoxb-...).", secret=True)
    signing_secret: str = setting(
        "", "SLACK_SIGNING_SECRET", "Verifies Events API requests.", secret=True
    )
    app_token: str = setting(
        "", "SLACK_APP_TOKEN", "App-level token (xapp-...): enables Socket Mode.", secret=True
    )
    api_url: str = setting("https://slack.com/api/", "SLACK_API_URL", "Slack Web API base URL.",
                           check=http_url)
    admin_users: tuple[str, ...] = setting(
        (), "FIRSTLINE_SLACK_ADMIN_USERS", "Slack user ids allowed to run admin commands."
    )
    admin_groups: tuple[str, ...] = setting(
        (), "FIRSTLINE_SLACK_ADMIN_GROUPS", "Slack user group ids whose members are admins."
    )
    audience_groups: tuple[str, ...] = setting(
        (), "FIRSTLINE_SLACK_AUDIENCE_GROUPS",
        "Slack user groups that are document audiences, as `SLACKGROUPID=group` pairs "
        "(comma-separated), e.g. `S0123HR=hr`: members get that group (usergroups:read).")
    look_up_email: bool = setting(
        False, "FIRSTLINE_SLACK_LOOK_UP_EMAIL",
        "Look up the asker's e-mail address (users:read.email) so that FIRSTLINE_DIRECTORY can "
        "be keyed by e-mail.")
    stream: bool = setting(
        True, "FIRSTLINE_SLACK_STREAM",
        "Show answers as they are written (chat.startStream; needs a workspace where Slack "
        "offers it). Off, or where Slack refuses it: a placeholder replaced by the answer.")
    handoff_channel: str = setting(
        "", "FIRSTLINE_HANDOFF_SLACK_CHANNEL",
        "Channel id of the helpdesk channel that \"Ask a person\" posts to "
        "(FIRSTLINE_HANDOFF_TARGET=slack); invite the bot to it.")
    suggested_prompts: tuple[str, ...] = setting(
        ("How do I reset my VPN password?", "How do I apply for paid leave?",
         "How do I submit an expense report?"),
        "FIRSTLINE_SLACK_SUGGESTED_PROMPTS",
        "Questions offered when someone opens firstline's agent view (at most 4; "
        "comma-separated, or a list in firstline.toml).")
    suggested_prompts_ja: tuple[str, ...] = setting(
        ("VPNのパスワードをリセットするには?", "有給休暇はどうやって申請しますか?",
         "経費精算はどうやって申請しますか?"),
        "FIRSTLINE_SLACK_SUGGESTED_PROMPTS_JA",
        "The same for people whose Slack language is Japanese.")
