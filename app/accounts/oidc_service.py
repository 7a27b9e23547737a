"""Single sign-on through the university's OpenID Connect provider: the rules.

A sign-in is the authorization code flow with PKCE, ``state`` and ``nonce``. Its beginning is
a row (``OidcLogin``) that the callback deletes as it reads it, so one state serves one
callback in whichever app process it lands. The ID token's signature is checked against the
provider's published keys (JWKS), and its issuer, audience, expiry and nonce against what was
sent. The provider's discovery document and keys are cached in this process for a while; a
token signed with a key not yet seen makes the keys be read again at once (keys rotate).

Nothing is written for a person until every check has passed: a refused sign-in creates no
account. The subject (``iss`` + ``sub``) is the stable key of an account; its email is only
how a first sign-in finds an account made with a password before, which is then linked once
its owner has given that password.
"""

import threading
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import quote, urlsplit

import httpx
from authlib.common.security import generate_token
from authlib.common.urls import add_params_to_uri
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from authlib.oidc.core import CodeIDToken
from joserfc import jws, jwt
from joserfc.errors import (
    ExpiredTokenError,
    InvalidClaimError,
    JoseError,
    MissingClaimError,
)
from joserfc.jwk import KeySet, OctKey
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.accounts.service import (
    get_user_by_email,
    normalize_email,
    refuse_deactivated,
    sha256,
)
from app.config import Settings
from app.db import new_token, utcnow
from app.errors import AppError, Forbidden
from app.models import OidcIdentity, OidcLogin, Role, User

LOGIN_MINUTES = 10  # from the button to the callback, the provider's own sign-in page included
LINK_MINUTES = 10  # to give the old password once, after the provider has answered
# Asymmetric signatures only: "none" and the HMAC family (keyed with the client secret, which
# the provider's whole tenant may know) are refused whatever the provider advertises.
SIGNING_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384",
                      "ES512", "EdDSA")
CLOCK_SKEW_SECONDS = 60


class ProviderDown(AppError):
    status_code = 503
    code = "sso_unavailable"
    detail = ("Your university's sign-in service is not answering. Try again in a few minutes; "
              "if it goes on, tell your career-services office.")


class SignInFailed(AppError):
    status_code = 400
    code = "sso_failed"
    detail = "Signing in through your university did not work. Start again from the login page."


def _refused(detail: str, code: str) -> Forbidden:
    return Forbidden(detail, code=code)


# --- the provider: discovery document and keys, cached per issuer in this process ---


@dataclass
class _Cached:
    value: Any
    fetched: float


_cache: dict[str, _Cached] = {}
_cache_lock = threading.Lock()


def _address_allowed(url: str) -> bool:
    """The provider's endpoints, like its issuer: https, or http on loopback."""
    parts = urlsplit(url)
    return parts.scheme == "https" or (
        parts.scheme == "http" and parts.hostname in {"127.0.0.1", "::1", "localhost"})


def _get_json(settings: Settings, url: str) -> dict[str, Any]:
    try:
        response = httpx.get(url, timeout=settings.oidc_timeout_seconds,
                             headers={"Accept": "application/json"})
        response.raise_for_status()
        body = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise ProviderDown() from exc
    if not isinstance(body, dict):
        raise ProviderDown()
    return body


def _cached(settings: Settings, key: str, fetch: Any, refresh: bool = False) -> Any:
    with _cache_lock:
        entry = _cache.get(key)
    if entry is not None and not refresh and \
            time.monotonic() - entry.fetched < settings.oidc_metadata_seconds:
        return entry.value
    value = fetch()
    with _cache_lock:
        _cache[key] = _Cached(value, time.monotonic())
    return value


def metadata(settings: Settings) -> dict[str, Any]:
    """The provider's discovery document, checked: it must name the configured issuer and
    give the endpoints a sign-in needs, at addresses as safe as the issuer's."""

    def fetch() -> dict[str, Any]:
        doc = _get_json(settings, settings.oidc_issuer.rstrip("/")
                        + "/.well-known/openid-configuration")
        if str(doc.get("issuer", "")).rstrip("/") != settings.oidc_issuer.rstrip("/"):
            raise ProviderDown("The sign-in service's discovery document names another issuer "
                               "than RAPPORT_OIDC_ISSUER. Tell your career-services office.")
        for field in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
            if not isinstance(doc.get(field), str) or not _address_allowed(doc[field]):
                raise ProviderDown()
        return doc

    return dict(_cached(settings, "metadata:" + settings.oidc_issuer, fetch))


def cached_metadata(settings: Settings) -> dict[str, Any] | None:
    """The discovery document if this process has it, without asking the provider."""
    with _cache_lock:
        entry = _cache.get("metadata:" + settings.oidc_issuer)
    return dict(entry.value) if entry is not None else None


def _keys(settings: Settings, meta: dict[str, Any], refresh: bool = False) -> KeySet:
    def fetch() -> KeySet:
        try:
            return KeySet.import_key_set(_get_json(settings, meta["jwks_uri"]))  # type: ignore[arg-type]
        except (JoseError, ValueError, TypeError, KeyError) as exc:
            raise ProviderDown() from exc

    keys: KeySet = _cached(settings, "jwks:" + settings.oidc_issuer, fetch, refresh)
    return keys


# --- beginning a sign-in ---


def begin(db: Session, settings: Settings, redirect_uri: str, next_path: str) -> tuple[str, str]:
    """Record a sign-in and return the provider's address to send the browser to, with the
    value of the cookie that binds this sign-in to the browser."""
    meta = metadata(settings)
    state, nonce, verifier, browser = (generate_token(43), generate_token(32),
                                       generate_token(64), new_token())
    now = utcnow()
    db.execute(delete(OidcLogin).where(OidcLogin.expires_at <= now))
    db.add(OidcLogin(id=sha256(state), browser=sha256(browser), nonce=nonce,
                     code_verifier=verifier, next_path=next_path,
                     expires_at=now + timedelta(minutes=LOGIN_MINUTES)))
    db.flush()
    url = add_params_to_uri(meta["authorization_endpoint"], [
        ("response_type", "code"), ("client_id", settings.oidc_client_id),
        ("redirect_uri", redirect_uri), ("scope", settings.oidc_scopes), ("state", state),
        ("nonce", nonce), ("code_challenge", create_s256_code_challenge(verifier)),
        ("code_challenge_method", "S256"),
    ])
    return url, browser


@dataclass(frozen=True)
class Started:
    nonce: str
    code_verifier: str
    next_path: str


STATE_USED = ("This sign-in link was already used, has expired, or was started in another "
              "browser. Start again from the login page.")


def take(db: Session, state: str, browser: str | None) -> Started:
    """The sign-in this callback answers, deleted as it is read (committed at once, before the
    provider is asked anything): a state is good for one callback only."""
    row = db.get(OidcLogin, sha256(state)) if state else None
    deleted = db.execute(delete(OidcLogin).where(OidcLogin.id == sha256(state))) if row else None
    db.commit()
    if row is None or deleted is None or deleted.rowcount != 1:  # type: ignore[attr-defined]
        raise SignInFailed(STATE_USED, code="sso_state_invalid")
    if not browser or sha256(browser) != row.browser or row.expires_at <= utcnow():
        raise SignInFailed(STATE_USED, code="sso_state_invalid")
    return Started(row.nonce, row.code_verifier, row.next_path)


# --- the provider's answer ---


def exchange(settings: Settings, code: str, verifier: str, redirect_uri: str) -> dict[str, Any]:
    """The token endpoint's answer for ``code``. The client authenticates with HTTP Basic
    (client_secret_basic), or in the form when the provider supports only that."""
    meta = metadata(settings)
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri,
            "code_verifier": verifier}
    auth: tuple[str, str] | None = (quote(settings.oidc_client_id, safe=""),
                                    quote(settings.oidc_client_secret, safe=""))
    methods = meta.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
    if "client_secret_basic" not in methods and "client_secret_post" in methods:
        auth = None
        form |= {"client_id": settings.oidc_client_id,
                 "client_secret": settings.oidc_client_secret}
    try:
        response = httpx.post(meta["token_endpoint"], data=form, auth=auth,
                              timeout=settings.oidc_timeout_seconds,
                              headers={"Accept": "application/json"})
        body = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise ProviderDown() from exc
    if response.status_code >= 500 or not isinstance(body, dict):
        raise ProviderDown()
    if response.status_code != 200 or "error" in body:
        if body.get("error") == "invalid_grant":
            raise SignInFailed("Your university's sign-in did not accept this sign-in: it was "
                               "already used or has expired. Start again from the login page.",
                               code="sso_code_rejected")
        raise SignInFailed("Your university's sign-in refused Rapport's request "
                           f"({str(body.get('error', response.status_code))[:80]}). Tell your "
                           "career-services office.", code="sso_provider_refused")
    if not isinstance(body.get("id_token"), str):
        raise SignInFailed("Your university's sign-in sent no ID token.", code="sso_token_invalid")
    return body


UNTRUSTED = ("Your university's sign-in sent a token Rapport cannot trust{why}. Nothing was "
             "changed. Start again from the login page.")


def _invalid(why: str) -> SignInFailed:
    return SignInFailed(UNTRUSTED.format(why=why), code="sso_token_invalid")


def verify_id_token(settings: Settings, id_token: str, nonce: str,
                    access_token: str | None) -> dict[str, Any]:
    """The ID token's claims, once its signature, issuer, audience, expiry and nonce hold."""
    meta = metadata(settings)
    allowed = [alg for alg in meta.get("id_token_signing_alg_values_supported", ["RS256"])
               if alg in SIGNING_ALGORITHMS]
    try:
        header = jws.extract_compact(id_token.encode()).headers()
    except (JoseError, ValueError) as exc:
        raise _invalid(" (it is not a signed token)") from exc
    if header.get("alg") not in allowed:
        raise _invalid(f" (signed with {str(header.get('alg'))[:20]})")
    keys = _keys(settings, meta)
    kid = header.get("kid")
    if kid is not None and all(key.kid != kid for key in keys.keys):
        keys = _keys(settings, meta, refresh=True)  # a key rotated in since they were read
    try:
        token = jwt.decode(id_token, keys, algorithms=allowed)
    except (JoseError, ValueError, TypeError) as exc:
        raise _invalid(" (its signature does not match the university's keys)") from exc
    claims = CodeIDToken(token.claims, token.header, options={
        "iss": {"essential": True, "value": meta["issuer"]},
        "aud": {"essential": True, "value": settings.oidc_client_id},
        "sub": {"essential": True},
        "nonce": {"essential": True, "value": nonce},
    }, params={"nonce": nonce, "client_id": settings.oidc_client_id,
               "access_token": access_token})
    try:
        claims.validate(leeway=CLOCK_SKEW_SECONDS)
    except ExpiredTokenError as exc:
        raise SignInFailed("Your university's sign-in sent a token that has expired. Check "
                           "that this device's clock is right, then start again from the login "
                           "page.", code="sso_token_expired") from exc
    except (InvalidClaimError, MissingClaimError) as exc:
        claim = getattr(exc, "claim", "")
        why = {"aud": " (it was issued for another application)",
               "iss": " (it comes from another issuer)",
               "nonce": " (it belongs to another sign-in)"}.get(claim, f" (claim {claim})")
        raise _invalid(why) from exc
    except JoseError as exc:
        raise _invalid("") from exc
    return dict(claims)


def userinfo(settings: Settings, access_token: str, subject: str) -> dict[str, Any]:
    """The userinfo endpoint's claims (some providers, Okta's among them, keep the email and
    groups out of the ID token), or nothing if it has none or names another subject."""
    endpoint = metadata(settings).get("userinfo_endpoint")
    if not isinstance(endpoint, str) or not _address_allowed(endpoint):
        return {}
    try:
        response = httpx.get(endpoint, timeout=settings.oidc_timeout_seconds,
                             headers={"Authorization": f"Bearer {access_token}",
                                      "Accept": "application/json"})
        body = response.json() if response.status_code == 200 else {}
    except (httpx.HTTPError, ValueError) as exc:
        raise ProviderDown() from exc
    return body if isinstance(body, dict) and body.get("sub") == subject else {}


# --- who signed in ---


@dataclass(frozen=True)
class Person:
    issuer: str
    subject: str
    email: str
    name: str
    role: Role | None  # None: roles are not taken from the provider


def _values(claim: Any) -> set[str]:
    if isinstance(claim, str):
        return {part for part in claim.replace(",", " ").split() if part}
    if isinstance(claim, list):
        return {str(value) for value in claim}
    return set()


def role_from(settings: Settings, claims: dict[str, Any]) -> Role | None:
    if not settings.oidc_roles_claim:
        return None
    held = _values(claims.get(settings.oidc_roles_claim))
    if held & set(settings.oidc_admin_values):
        return Role.admin
    if held & set(settings.oidc_staff_values):
        return Role.staff
    return Role.student


def person(settings: Settings, claims: dict[str, Any]) -> Person:
    """Who the claims name, or a refusal: no email, an email the provider does not vouch
    for, or a domain that may not sign in."""
    email = claims.get("email")
    if not isinstance(email, str) or "@" not in email:
        raise _refused("Your university's sign-in did not tell Rapport your email address. Ask "
                       "your career-services office to let Rapport read it (the email scope).",
                       "sso_email_missing")
    verified = claims.get("email_verified")
    if settings.oidc_require_verified_email and verified not in (True, "true"):
        raise _refused("Your university's sign-in has not verified your email address, so "
                       "Rapport cannot use it. Verify it there, then sign in again.",
                       "sso_email_unverified")
    email = normalize_email(email)
    domains = settings.oidc_email_domains
    if domains and email.rpartition("@")[2] not in domains:
        allowed = ", ".join(f"@{d}" for d in domains)
        raise _refused(f"Rapport is open to addresses ending in {allowed}; {email} is not one "
                       "of them.", "sso_domain_not_allowed")
    name = claims.get("name") or " ".join(
        str(claims[part]) for part in ("given_name", "family_name") if claims.get(part))
    return Person(issuer=str(claims["iss"]), subject=str(claims["sub"]), email=email,
                  name=str(name or email.partition("@")[0])[:200],
                  role=role_from(settings, claims))


def _apply(db: Session, user: User, who: Person, identity: OidcIdentity) -> User:
    """What each sign-in refreshes: the role (when the provider decides it) and the email
    (when the university changed it and no other account has the new one). A deactivated
    account is refused, whatever the provider says."""
    refuse_deactivated(user)
    if who.role is not None:
        user.role = who.role
    if user.email != who.email and get_user_by_email(db, who.email) is None:
        user.email = who.email
        if user.pending_email == who.email:
            user.pending_email = None
    if user.email == who.email and user.email_verified_at is None:
        user.email_verified_at = utcnow()  # the provider vouches for the address
    identity.last_login_at = utcnow()
    db.flush()
    return user


@dataclass(frozen=True)
class LinkNeeded:
    """An account made with a password has this email: its owner links it by giving the
    password once."""

    user: User


def sign_in(db: Session, who: Person) -> User | LinkNeeded:
    """The account this person signs in to, made at their first sign-in."""
    identity = db.scalar(select(OidcIdentity).where(OidcIdentity.issuer == who.issuer,
                                                    OidcIdentity.subject == who.subject))
    if identity is not None:
        return _apply(db, identity.user, who, identity)
    existing = get_user_by_email(db, who.email)
    if existing is not None:
        linked = db.scalar(select(OidcIdentity).where(OidcIdentity.user_id == existing.id,
                                                      OidcIdentity.issuer == who.issuer))
        if linked is not None and linked.subject == who.subject:  # made a moment ago, at once
            return _apply(db, existing, who, linked)
        if linked is not None:
            raise _refused(f"The Rapport account for {who.email} belongs to another university "
                           "sign-in. Ask your career-services office.", "sso_account_taken")
        return LinkNeeded(existing)
    try:
        with db.begin_nested():
            user = User(email=who.email, password_hash="", name=who.name,
                        role=who.role or Role.student, email_verified_at=utcnow())
            db.add(user)
            db.flush()
            identity = OidcIdentity(user_id=user.id, issuer=who.issuer, subject=who.subject)
            db.add(identity)
            db.flush()
    except IntegrityError:
        # Another sign-in of the same person (or one with the same email) got there first.
        identity = db.scalar(select(OidcIdentity).where(OidcIdentity.issuer == who.issuer,
                                                        OidcIdentity.subject == who.subject))
        if identity is None:
            raise
        return _apply(db, identity.user, who, identity)
    return user


def link(db: Session, user: User, who: Person) -> User:
    """Link an account made with a password to this person, once its password was given."""
    if user.email != who.email:
        raise SignInFailed("This account's email changed meanwhile. Start again from the login "
                           "page.", code="sso_link_expired")
    identity = db.scalar(select(OidcIdentity).where(OidcIdentity.issuer == who.issuer,
                                                    OidcIdentity.subject == who.subject))
    if identity is not None:
        if identity.user_id != user.id:
            raise _refused("This university sign-in is already linked to another Rapport "
                           "account.", "sso_account_taken")
        return _apply(db, user, who, identity)
    try:
        with db.begin_nested():
            identity = OidcIdentity(user_id=user.id, issuer=who.issuer, subject=who.subject)
            db.add(identity)
            db.flush()
    except IntegrityError as exc:
        raise _refused("This account or this university sign-in was linked by another request "
                       "just now. Sign in again.", "sso_account_taken") from exc
    return _apply(db, user, who, identity)


# --- the link waiting for a password: a short-lived token signed with the secret key ---


def _link_key(settings: Settings) -> OctKey:
    return OctKey.import_key(sha256("oidc-link." + settings.secret_key))


def link_token(settings: Settings, user: User, who: Person) -> str:
    now = int(time.time())
    return jwt.encode({"alg": "HS256"}, {
        "uid": user.id, "iss": who.issuer, "sub": who.subject, "email": who.email,
        "name": who.name, "role": who.role.value if who.role else None,
        "iat": now, "exp": now + LINK_MINUTES * 60,
    }, _link_key(settings))


LINK_EXPIRED = ("The time to link your account has run out. Sign in with your university again "
                "to start over.")


def read_link_token(settings: Settings, value: str | None) -> tuple[str, Person]:
    """The account waiting to be linked and the person it is linked to."""
    if not value:
        raise SignInFailed(LINK_EXPIRED, code="sso_link_expired")
    try:
        token = jwt.decode(value, _link_key(settings), algorithms=["HS256"])
        jwt.JWTClaimsRegistry(exp={"essential": True}).validate(token.claims)
        claims = token.claims
        who = Person(issuer=claims["iss"], subject=claims["sub"], email=claims["email"],
                     name=claims["name"], role=Role(claims["role"]) if claims["role"] else None)
        return str(claims["uid"]), who
    except (JoseError, KeyError, ValueError, TypeError) as exc:  # a cookie someone made up
        raise SignInFailed(LINK_EXPIRED, code="sso_link_expired") from exc


def landing(user: User, next_path: str) -> str:
    """Where a sign-in ends: the page asked for, else staff's figures or a student's day."""
    if next_path and next_path != "/":
        return next_path
    return "/stats" if user.role in (Role.staff, Role.admin) else "/"


def end_session_url(settings: Settings, after: str) -> str | None:
    """The provider's end-session address (RP-initiated logout), when it has one."""
    meta = cached_metadata(settings)
    if meta is None:
        try:
            meta = metadata(settings)
        except ProviderDown:
            return None
    endpoint = meta.get("end_session_endpoint")
    if not isinstance(endpoint, str) or not _address_allowed(endpoint):
        return None
    return str(add_params_to_uri(endpoint, [("client_id", settings.oidc_client_id),
                                            ("post_logout_redirect_uri", after)]))
