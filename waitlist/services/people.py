"""People and keys: who is calling, in which role, and the use cases that change that.

Accounts sign in with an email and a password (argon2id, argon2-cffi's defaults: memory-hard, so a
stolen hash is slow to guess); a person has one role per restaurant. Integrations call with named,
scoped API keys; the restaurant's own key is an admin key until revoked. The restaurant's key path
stays exactly as cheap as before: it is checked first, from the restaurant hash the request reads
anyway, and only an unknown key costs the extra read of the restaurant's integration keys.
"""
from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from config import Config
from waitlist.domain.errors import Forbidden, InvalidInput, RestaurantNotFound, Unauthorized, WaitlistError
from waitlist.domain.model import Restaurant
from waitlist.domain.people import (
    RESTAURANT_KEY_ID,
    ROLES,
    SCOPES,
    AccountLocked,
    Actor,
    EmailTaken,
    LinkInvalid,
    NotFoundHere,
    check_password,
    check_role,
    check_scope,
    clean_email,
    clean_name,
    lock_seconds,
)
from waitlist.estimate.estimator import Snapshot
from waitlist.mail import mask_email
from waitlist.store import Store
from waitlist.store.accounts import Account, AccountStore, ApiKey

log = logging.getLogger(__name__)

INVITE_SECONDS = 3 * 24 * 3600
RESET_SECONDS = 3600
RESTAURANT_KEY = Actor(kind="key", id=RESTAURANT_KEY_ID, name="restaurant key", role=SCOPES["admin"])


class RoleRefused(WaitlistError):
    """The caller is known here but their role does not allow this. Not a Forbidden: it is no guess at
    a key, so the failed-key guard does not count it."""

    code = "forbidden"
    status = 403


class LinkOutbox(Protocol):
    """Where invitation and reset links go: the local outbox in development (waitlist.store.DevOutbox)."""

    def add_sent(self, entry: dict[str, Any]) -> None: ...


class MailQueue(Protocol):
    """Where mail goes when an SMTP server is configured: a worker sends it (waitlist.texting.dispatch)."""

    def send_mail(self, to: str, subject: str, body: str) -> None: ...


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class SignedIn:
    account: Account
    session: str
    """What the cookie keeps: "<account id>.<session id>"."""


class People:
    def __init__(self, store: Store, accounts: AccountStore, config: Config, links: LinkOutbox,
                 clock: Callable[[], float] = time.time, hasher: PasswordHasher | None = None,
                 mail: MailQueue | None = None):
        """``mail``: where links are mailed when ``config.mail_configured``."""
        self.store = store
        self.accounts = accounts
        self.config = config
        self.links = links
        self.mail = mail
        self.clock = clock
        self.hasher = hasher or PasswordHasher()
        self._dummy_hash = self.hasher.hash(secrets.token_hex(8))
        self.invite_seconds, self.reset_seconds = INVITE_SECONDS, RESET_SECONDS

    # --- API keys -------------------------------------------------------------------------------------

    def authenticate(self, slug: str, api_key: str | None) -> tuple[Restaurant, Actor]:
        """401 without a key or with an unknown one, 404 for an unknown slug, 403 for another's key."""
        offered = _offered(api_key)
        return self._key_actor(slug, offered, self.store.load_restaurant(slug))

    def authenticate_for_join(self, slug: str, api_key: str | None) -> tuple[Restaurant, Snapshot, Actor]:
        """As ``authenticate``, with the join's snapshot: the restaurant's key in the one round trip it
        always took; an integration key reads the snapshot after."""
        offered = _offered(api_key)
        found, snapshot = self.store.restaurant_and_snapshot(slug, offered)
        restaurant, actor = self._key_actor(slug, offered, found)
        return restaurant, snapshot if snapshot is not None else self.store.snapshot(slug), actor

    def _key_actor(self, slug: str, offered: str, found: tuple[Restaurant, str] | None) -> tuple[Restaurant, Actor]:
        if found is None:
            raise RestaurantNotFound(f"no restaurant {slug!r}")
        restaurant, key_hash = found
        if key_hash and hmac.compare_digest(offered, key_hash):
            return restaurant, RESTAURANT_KEY
        key = self.accounts.api_key(slug, offered)
        if key is not None:
            return restaurant, Actor(kind="key", id=key.id, name=key.name, role=SCOPES[key.scope])
        if self.store.slug_for_api_key(offered):
            raise Forbidden("that key belongs to another restaurant")
        raise Unauthorized("that API key is not valid")

    def create_api_key(self, restaurant: Restaurant, by: Actor, name: str, scope: str) -> tuple[ApiKey, str]:
        """The key and its secret, shown this once and stored only hashed. Nobody makes a key that may do
        more than they may."""
        if not by.may(SCOPES[check_scope(scope)]):
            raise RoleRefused(f"a {by.role} cannot make an {scope} key")
        secret = "wlk_" + secrets.token_urlsafe(24)
        key = ApiKey(id=secrets.token_hex(6), name=clean_name(name), scope=check_scope(scope),
                     created_at=self.clock(), key_hash=hashlib.sha256(secret.encode()).hexdigest())
        self.accounts.add_api_key(restaurant.slug, key)
        log.info("api key created slug=%s id=%s scope=%s", restaurant.slug, key.id, key.scope)
        return key, secret

    def api_keys(self, restaurant: Restaurant) -> list[dict[str, Any]]:
        """The integration keys, and the restaurant's own key while it works."""
        listed = [{"id": k.id, "name": k.name, "scope": k.scope, "created_at": k.created_at}
                  for k in self.accounts.api_keys(restaurant.slug)]
        found = self.store.load_restaurant(restaurant.slug)
        if found and found[1]:
            listed.insert(0, {"id": RESTAURANT_KEY_ID, "name": RESTAURANT_KEY.name, "scope": "admin",
                              "created_at": restaurant.created_at})
        return listed

    def revoke_api_key(self, restaurant: Restaurant, key_id: str) -> None:
        """Revoking the restaurant's own key also signs out every tablet signed in with it."""
        if key_id == RESTAURANT_KEY_ID:
            found = self.store.load_restaurant(restaurant.slug)
            if found and found[1]:
                self.store.replace_api_key(restaurant.slug, found[1], "")
                return
        for key in self.accounts.api_keys(restaurant.slug):
            if key.id == key_id:
                self.accounts.revoke_api_key(restaurant.slug, key.key_hash)
                log.info("api key revoked slug=%s id=%s", restaurant.slug, key_id)
                return
        raise _not_found("key", key_id)

    # --- invitations ----------------------------------------------------------------------------------

    def invite(self, restaurant: Restaurant, by: Actor, email: str, role: str) -> str:
        """A single-use link that expires; it goes to the local outbox in development and back to
        whoever invited, who may hand it over themselves."""
        email, role = clean_email(email), check_role(role)
        if not by.may(role):
            raise RoleRefused("you cannot give a role above your own")
        token = secrets.token_urlsafe(24)
        self.accounts.save_invite(token_hash(token), {"email": email, "slug": restaurant.slug, "role": role,
                                                     "by": by.name}, self.invite_seconds)
        url = f"{self.config.public_base_url}/account/invite/{token}"
        self._deliver(email, f"Join {restaurant.name} on the waitlist",
                      f"{by.name} invited you to {restaurant.name} as {role}: {url}")
        return url

    def invitation(self, token: str) -> dict[str, str]:
        """What the link offers, without using it (the acceptance page shows it)."""
        found = self.accounts.peek_invite(token_hash(token))
        if found is None:
            raise LinkInvalid("this invitation was used already or has expired")
        return {**found, "existing": "1" if self.accounts.account_by_email(found["email"]) else ""}

    def accept_invite(self, token: str, name: str, password: str) -> SignedIn:
        """A new person sets a name and a password; a person who has an account gives their password.
        The link is taken in one command first, so it works once even when two clicks race."""
        check_password(password)
        invite = self.accounts.take_invite(token_hash(token))
        if invite is None:
            raise LinkInvalid("this invitation was used already or has expired")
        account = self.accounts.account_by_email(invite["email"])
        if account is None:
            account_id = secrets.token_hex(6)
            if not self.accounts.create_account(account_id, invite["email"], clean_name(name),
                                                self.hasher.hash(password), self.clock()):
                raise EmailTaken("that email has an account: sign in to accept")
            account = self.accounts.account(account_id)
            assert account is not None
        elif not self._password_ok(account, password):
            self.accounts.save_invite(token_hash(token), invite, self.invite_seconds)  # not used up by a typo
            raise Unauthorized("that password is not right for " + invite["email"])
        if self.accounts.role(invite["slug"], account.id) != "owner":  # an invitation never demotes an owner
            self.accounts.set_role(invite["slug"], account.id, invite["role"])
        log.info("invitation accepted slug=%s account=%s role=%s", invite["slug"], account.id, invite["role"])
        return self._open_session(account)

    # --- signing in and out ---------------------------------------------------------------------------

    def sign_in(self, email: str, password: str) -> SignedIn:
        """A wrong password counts against the account: after a few, each try waits, doubling up to
        MAX_LOCK_SECONDS (never longer, so an owner is never locked out for good; a reset link works
        at any time). An unknown email costs a hash all the same, so timing tells nothing."""
        account = self.accounts.account_by_email((email or "").strip().lower())
        if account is None:
            self._password_ok(None, password)
            raise Unauthorized("that email and password do not match")
        wait = int(account.last_failure_at + lock_seconds(account.failures) - self.clock() + 0.999)
        if wait > 0:
            raise AccountLocked(f"too many wrong passwords: try again in {wait} s, or reset the password",
                                retry_after=wait)
        if not self._password_ok(account, password):
            self.accounts.failed_sign_in(account.id, self.clock())
            raise Unauthorized("that email and password do not match")
        if account.failures:
            self.accounts.clear_failures(account.id)
        if self.hasher.check_needs_rehash(account.password_hash):
            self.accounts.set_password(account.id, self.hasher.hash(password))
        return self._open_session(account)

    def _password_ok(self, account: Account | None, password: str) -> bool:
        try:
            return self.hasher.verify(account.password_hash if account else self._dummy_hash, password or "-")
        except (VerificationError, InvalidHashError):
            return False

    def _open_session(self, account: Account) -> SignedIn:
        """Always a new session id: one from before the sign-in is never carried over."""
        session_id = secrets.token_urlsafe(18)
        self.accounts.open_session(account.id, session_id, self._session_seconds())
        return SignedIn(account, f"{account.id}.{session_id}")

    def session_account(self, signed: str) -> Account | None:
        account_id, _, session_id = (signed or "").partition(".")
        if not session_id:
            return None
        account = self.accounts.session_account(session_id, self._session_seconds())
        return account if account is not None and account.id == account_id else None

    def actor_at(self, slug: str, signed: str) -> tuple[Restaurant, Actor] | None:
        """The restaurant and the signed-in person acting there; None once signed out; a 404 where the
        person has no role (another restaurant's pages do not exist for them)."""
        account = self.session_account(signed)
        if account is None:
            return None
        role = self.accounts.role(slug, account.id)
        found = self.store.load_restaurant(slug) if role else None
        if not role or found is None:
            raise RestaurantNotFound(f"no restaurant {slug!r}")
        return found[0], Actor(kind="person", id=account.id, name=account.name, role=role)

    def sign_out(self, signed: str) -> None:
        account_id, _, session_id = (signed or "").partition(".")
        if session_id:
            self.accounts.close_session(account_id, session_id)

    def sign_out_everywhere(self, account_id: str) -> int:
        return self.accounts.close_all_sessions(account_id)

    def _session_seconds(self) -> int:
        return max(60, int(self.config.session_hours * 3600))

    # --- password reset -------------------------------------------------------------------------------

    def request_reset(self, email: str) -> None:
        """Send a reset link if the email has an account; the answer is the same either way."""
        account = self.accounts.account_by_email((email or "").strip().lower())
        if account is None:
            return
        token = secrets.token_urlsafe(24)
        self.accounts.save_reset(token_hash(token), account.id, self.reset_seconds)
        self._deliver(account.email, "Reset your waitlist password",
                      "If you did not ask for this, ignore it. The link works once, for an hour: "
                      f"{self.config.public_base_url}/account/reset/{token}")

    def reset_link(self, restaurant: Restaurant, by: Actor, account_id: str) -> str:
        """A reset link for a member, given back to whoever asked (where no mail server is configured,
        this is how a person who forgot their password gets back in: their owner hands it over, as with
        invitations). The same link as the self-service one: single use, an hour,
        ends every session when used. An owner may make one for anyone here; anyone else only for
        people below them (a manager cannot take over another manager's or an owner's account)."""
        role = self._member_role(restaurant, account_id)
        if not by.may("owner") and not (by.may(role) and role != by.role):
            raise RoleRefused(f"a {by.role} cannot make a reset link for a {role}")
        token = secrets.token_urlsafe(24)
        self.accounts.save_reset(token_hash(token), account_id, self.reset_seconds)
        log.info("reset link made slug=%s account=%s by=%s", restaurant.slug, account_id, by.id)
        return f"{self.config.public_base_url}/account/reset/{token}"

    def reset_is_valid(self, token: str) -> bool:
        return self.accounts.peek_reset(token_hash(token)) is not None

    def reset_password(self, token: str, password: str) -> SignedIn:
        """A new password ends every session (whoever knew the old one is out) and any lockout."""
        check_password(password)
        account_id = self.accounts.take_reset(token_hash(token))
        account = self.accounts.account(account_id) if account_id else None
        if account is None:
            raise LinkInvalid("this reset link was used already or has expired")
        self.accounts.set_password(account.id, self.hasher.hash(password))
        self.accounts.close_all_sessions(account.id)
        return self._open_session(account)

    # --- the people of a restaurant -------------------------------------------------------------------

    def members(self, restaurant: Restaurant) -> list[dict[str, str]]:
        roles = self.accounts.members(restaurant.slug)
        people = self.accounts.accounts(sorted(roles))
        rank = {role: i for i, role in enumerate(reversed(ROLES))}
        return sorted(({"id": a.id, "name": a.name, "email": a.email, "role": roles[a.id]} for a in people),
                      key=lambda m: (rank.get(m["role"], 9), m["name"].lower()))

    def set_role(self, restaurant: Restaurant, by: Actor, account_id: str, role: str) -> None:
        check_role(role)
        current = self._member_role(restaurant, account_id)
        if current == "owner" and role != "owner":
            self._keep_an_owner(restaurant, account_id)
        if not by.may(role):
            raise RoleRefused("you cannot give a role above your own")
        self.accounts.set_role(restaurant.slug, account_id, role)

    def remove(self, restaurant: Restaurant, account_id: str) -> None:
        """The person's access ends at once: the role is gone for every later request, and every session
        of theirs is closed (they sign in again for their other restaurants)."""
        if self._member_role(restaurant, account_id) == "owner":
            self._keep_an_owner(restaurant, account_id)
        self.accounts.remove_member(restaurant.slug, account_id)
        self.accounts.close_all_sessions(account_id)
        log.info("person removed slug=%s account=%s", restaurant.slug, account_id)

    def _member_role(self, restaurant: Restaurant, account_id: str) -> str:
        role = self.accounts.role(restaurant.slug, account_id)
        if role is None:
            raise _not_found("person", account_id)
        return role

    def _keep_an_owner(self, restaurant: Restaurant, account_id: str) -> None:
        owners = [a for a, r in self.accounts.members(restaurant.slug).items() if r == "owner"]
        if owners == [account_id]:
            raise InvalidInput("a restaurant keeps at least one owner",
                               fields={"role": ["make someone else owner first"]})

    def add_owner(self, restaurant: Restaurant, email: str, name: str, password: str) -> Account:
        """The first owner of a restaurant (admin token; `flask` command or API)."""
        email, name = clean_email(email), clean_name(name)
        account = self.accounts.account_by_email(email)
        if account is None:
            account_id = secrets.token_hex(6)
            check_password(password)
            if not self.accounts.create_account(account_id, email, name, self.hasher.hash(password), self.clock()):
                raise EmailTaken("that email has an account")
            account = self.accounts.account(account_id)
            assert account is not None
        self.accounts.set_role(restaurant.slug, account.id, "owner")
        return account

    def places(self, account: Account) -> dict[str, str]:
        """Slug -> role of every restaurant the person belongs to (the switcher, the group view)."""
        return self.accounts.roles_in(account.id, self.accounts.places(account.id))

    def _deliver(self, to: str, subject: str, body: str) -> None:
        """Links are mailed by a worker when an SMTP server is configured; otherwise they go to the local
        outbox and the console in development, and in production the caller hands an invitation over."""
        if self.config.mail_configured and self.mail is not None:
            self.mail.send_mail(to, subject, body)
            log.info("link mailed to=%s subject=%s", mask_email(to), subject)
        elif self.config.development:
            self.links.add_sent({"sid": "LINK" + secrets.token_hex(8), "to": to, "from": "waitlist",
                                 "body": body, "at": self.clock()})
            log.warning("development link for %s: %s", to, body)


def _offered(api_key: str | None) -> str:
    if not api_key:
        raise Unauthorized("an API key is required: Authorization: Bearer <key>")
    return hashlib.sha256(api_key.encode()).hexdigest()


def _not_found(what: str, ident: str) -> WaitlistError:
    return NotFoundHere(f"no {what} {ident!r} here")
