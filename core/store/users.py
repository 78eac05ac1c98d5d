"""Accounts: who may sign in, with which role. Passwords are stored as Argon2id hashes
(argon2-cffi); every change to an account is itself logged with who made it."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from core.domain.access import ROLES, PermissionDenied
from core.errors import NotFound, WorkbenchError
from core.store.schema import now

MIN_PASSWORD = 8
MAX_PASSWORD = 1024
LOCK_AFTER = 5  # failed sign-ins in a row lock the account for LOCK_SECONDS
LOCK_SECONDS = 300
_NAME = re.compile(r"^\w(?:[\w .@-]{0,62}\w)?$")


class AccountError(WorkbenchError):
    prefix = "Account problem"


class SignInFailed(WorkbenchError):
    prefix = "Sign-in failed"


@dataclass(frozen=True)
class User:
    username: str
    display_name: str
    role: str
    disabled: bool
    created_at: str
    last_sign_in: str | None = None

    @property
    def shown(self) -> str:
        return self.display_name or self.username


_HASHER = None


def hasher():
    global _HASHER
    if _HASHER is None:
        from argon2 import PasswordHasher

        _HASHER = PasswordHasher()  # Argon2id with the library's current defaults (RFC 9106 low-memory)
    return _HASHER


def valid_username(name: str) -> str:
    name = unicodedata.normalize("NFC", (name or "").strip())
    if not _NAME.match(name):
        raise AccountError(f"'{name[:80]}' is not a usable account name: 1 to 64 letters, digits, spaces or . @ _ -, "
                           "starting and ending with a letter or digit")
    return name


def valid_password(password: str) -> str:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD:
        raise AccountError(f"a password needs at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise AccountError(f"a password may have at most {MAX_PASSWORD} characters")
    return password


class UserQueries:
    """Mixed into ``Store``."""

    def _user(self, row: dict[str, Any]) -> User:
        return User(row["username"], row["display_name"] or "", row["role"], bool(row["disabled_at"]),
                    row["created_at"], row["last_sign_in"])

    def has_accounts(self) -> bool:
        return self.db.execute("SELECT EXISTS (SELECT 1 FROM users)").fetchone()[0] == 1

    def users(self, *, include_disabled: bool = True) -> list[User]:
        sql = "SELECT * FROM users" + ("" if include_disabled else " WHERE disabled_at IS NULL") + " ORDER BY username"
        return [self._user(r) for r in self.db.query(sql)]

    def user(self, username: str) -> User:
        rows = list(self.db.query("SELECT * FROM users WHERE username = ?", [(username or "").strip()]))
        if not rows:
            raise NotFound(f"no account named '{(username or '').strip()[:80]}'")
        return self._user(rows[0])

    def _log_account(self, username: str, action: str, detail: str, by: str) -> None:
        self.db.execute("INSERT INTO account_events (username, action, detail, by, at) VALUES (?, ?, ?, ?, ?)",
                        [username, action, detail, by, now()])

    def add_user(self, username: str, password: str, role: str, *, display_name: str = "", by: str) -> User:
        """Create an account (``by``: the admin who creates it, or the first account itself)."""
        if self.has_accounts():  # the first account: whoever opens the workspace
            self.require("manage_users")
        username = valid_username(username)
        valid_password(password)
        if role not in ROLES:
            raise AccountError(f"unknown role '{role}': choose one of {', '.join(ROLES)}")
        digest = hasher().hash(password)
        with self.write():
            if list(self.db.query("SELECT 1 FROM users WHERE username = ?", [username])):
                raise AccountError(f"an account named '{username}' exists already")
            self.db.execute("INSERT INTO users (username, display_name, role, password_hash, created_at, created_by, "
                            "failed_attempts) VALUES (?, ?, ?, ?, ?, ?, 0)",
                            [username, display_name.strip()[:200], role, digest, now(), by])
            self._log_account(username, "add", role, by)
        return self.user(username)

    def set_role(self, username: str, role: str, *, by: str) -> User:
        self.require("manage_users")
        if role not in ROLES:
            raise AccountError(f"unknown role '{role}': choose one of {', '.join(ROLES)}")
        user = self.user(username)
        with self.write():
            if user.role == "admin" and role != "admin":
                self._keep_an_admin(user.username)
            self.db.execute("UPDATE users SET role = ? WHERE username = ?", [role, user.username])
            self._log_account(user.username, "set-role", f"{user.role} -> {role}", by)
        return self.user(user.username)

    def _keep_an_admin(self, leaving: str) -> None:
        others = self.db.execute("SELECT count(*) FROM users WHERE role = 'admin' AND disabled_at IS NULL "
                                 "AND username != ?", [leaving]).fetchone()[0]
        if not others:
            raise AccountError(f"'{leaving}' is the last active administrator: make another account admin first")

    def disable_user(self, username: str, *, by: str) -> User:
        self.require("manage_users")
        user = self.user(username)
        with self.write():
            if user.role == "admin":
                self._keep_an_admin(user.username)
            self.db.execute("UPDATE users SET disabled_at = ?, disabled_by = ? WHERE username = ?",
                            [now(), by, user.username])
            self._log_account(user.username, "disable", "", by)
        return self.user(user.username)

    def enable_user(self, username: str, *, by: str) -> User:
        self.require("manage_users")
        user = self.user(username)
        with self.write():
            self.db.execute("UPDATE users SET disabled_at = NULL, disabled_by = NULL, failed_attempts = 0, "
                            "locked_until = NULL WHERE username = ?", [user.username])
            self._log_account(user.username, "enable", "", by)
        return self.user(user.username)

    def set_password(self, username: str, password: str, *, by: str) -> None:
        if (self.acting or ("", ""))[0] != username:  # one's own password: anyone
            self.require("manage_users")
        user = self.user(username)
        digest = hasher().hash(valid_password(password))
        with self.write():
            self.db.execute("UPDATE users SET password_hash = ?, failed_attempts = 0, locked_until = NULL "
                            "WHERE username = ?", [digest, user.username])
            self._log_account(user.username, "password", "", by)

    def sign_in(self, username: str, password: str) -> User:
        """The account, when the name and password match an enabled, unlocked account. The same
        message for an unknown name and a wrong password (no probing for names); five wrong
        passwords in a row lock the account for five minutes."""
        from argon2.exceptions import InvalidHashError, VerificationError

        name = (username or "").strip()
        rows = list(self.db.query("SELECT * FROM users WHERE username = ?", [name])) if name else []
        # one answer for an unknown name, a wrong password and a locked account: none tells a stranger
        # that an account exists (and each takes a password check's time)
        wrong = SignInFailed("wrong account name or password (after five wrong passwords in a row an account "
                             "waits five minutes)")
        if not rows:
            try:  # spend the same time as a real check
                hasher().verify(_dummy_hash(), password or "-")
            except (VerificationError, InvalidHashError):
                pass
            raise wrong
        row = rows[0]
        moment = datetime.now(timezone.utc)
        if row["locked_until"] and row["locked_until"] > moment.isoformat():
            try:  # the same time as any other answer
                hasher().verify(_dummy_hash(), password or "-")
            except (VerificationError, InvalidHashError):
                pass
            raise wrong
        try:
            hasher().verify(row["password_hash"], password or "")
        except (VerificationError, InvalidHashError):
            with self.write():
                failed = (row["failed_attempts"] or 0) + 1
                locked = (moment + timedelta(seconds=LOCK_SECONDS)).isoformat() if failed >= LOCK_AFTER else None
                self.db.execute("UPDATE users SET failed_attempts = ?, locked_until = ? WHERE username = ?",
                                [0 if locked else failed, locked, row["username"]])
                if locked:
                    self._log_account(row["username"], "locked", f"{failed} wrong passwords", "")
            raise wrong from None
        if row["disabled_at"]:
            raise SignInFailed(f"the account '{row['username']}' is disabled")
        with self.write():
            digest = hasher().hash(password) if hasher().check_needs_rehash(row["password_hash"]) else None
            self.db.execute("UPDATE users SET failed_attempts = 0, locked_until = NULL, last_sign_in = ?, "
                            "password_hash = coalesce(?, password_hash) WHERE username = ?",
                            [now(), digest, row["username"]])
        return self.user(row["username"])

    def account_events(self, username: str | None = None) -> list[dict[str, Any]]:
        where, params = ("WHERE username = ?", [username]) if username else ("", [])
        return list(self.db.query(f"SELECT * FROM account_events {where} ORDER BY id", params))

    def acting_user(self, username: str, action: str) -> User:
        """The enabled account ``username``, allowed to take ``action``."""
        from core.domain.access import check

        try:
            user = self.user(username)
        except NotFound:
            raise PermissionDenied(f"there is no account named '{(username or '').strip()[:80]}' in this "
                                   "workspace") from None
        if user.disabled:
            raise PermissionDenied(f"the account '{user.username}' is disabled")
        if action:  # "": an account of any role
            check(user.role, action, user.username)
        return user


_DUMMY: list[str] = []


def _dummy_hash() -> str:
    if not _DUMMY:
        _DUMMY.append(hasher().hash("not a password of anyone"))
    return _DUMMY[0]
