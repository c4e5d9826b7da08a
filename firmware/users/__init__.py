# Ref: spec/ipsec-commands.md §0.2, §6.0; spec/isakmp-commands.md §0.2, R80
"""Users and the Security Officer privilege rule: the User Authentication
Facility (:mod:`.database`: users, salted password hashes, security mode),
the console's login session and the privilege check every command passes
(:mod:`.session`), the user and system security commands
(:mod:`.commands`); their displays are in
:mod:`pacsim.firmware.views.alliedware.users`."""
from .commands import USER_COMMANDS, UserCommands
from .database import (DEFAULT_MANAGER, DEFAULT_PASSWORD, LockoutRefused, PasswordHash, User, UserDatabase,
                       UserError, UserExists, UserNotFound)
from .session import ConsoleSession, LoginFailed

__all__ = [
    "User", "UserDatabase", "PasswordHash", "UserError", "UserExists", "UserNotFound", "LockoutRefused",
    "DEFAULT_MANAGER", "DEFAULT_PASSWORD", "ConsoleSession", "LoginFailed", "USER_COMMANDS", "UserCommands",
]
