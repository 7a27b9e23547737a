"""A small but real OpenID Connect provider for the tests, served on 127.0.0.1.

It publishes a discovery document and its keys (JWKS), signs in whichever test user it is given
at its authorization endpoint (no page of its own), checks the client, the redirect address,
PKCE and one use of each code at its token endpoint, and issues RS256 ID tokens. Tests turn
its faults on: a tampered, expired or foreign token, a broken token endpoint, a key rotation.
"""

import base64
import json
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from authlib.oauth2.rfc7636 import create_s256_code_challenge
from joserfc import jwt
from joserfc.jwk import RSAKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from tests.live import serve

CLIENT_ID = "rapport-test"
CLIENT_SECRET = "provider-test-secret"


def new_key() -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": secrets.token_hex(4), "use": "sig",
                                                 "alg": "RS256"})


@dataclass
class TestUser:
    sub: str = "u-1001"
    email: str | None = "maya@uni.edu"
    email_verified: bool = True
    name: str = "Maya Okafor"
    groups: list[str] = field(default_factory=list)
    # Claims the provider gives only at its userinfo endpoint, not in the ID token.
    userinfo_only: tuple[str, ...] = ()


@dataclass
class Provider:
    issuer: str = ""
    keys: list[RSAKey] = field(default_factory=lambda: [new_key()])
    user: TestUser = field(default_factory=TestUser)
    # Faults, reset before each test.
    claims: dict[str, Any] = field(default_factory=dict)  # merged into the next ID tokens
    tamper: bool = False  # the payload changed after signing
    foreign_key: bool = False  # signed with a key the JWKS does not list
    token_down: bool = False  # the token endpoint answers 503
    deny: bool = False  # the authorization endpoint answers access_denied
    end_session: bool = True
    codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    access_tokens: dict[str, dict[str, Any]] = field(default_factory=dict)

    def reset(self) -> None:
        self.user = TestUser()
        self.claims, self.tamper, self.foreign_key = {}, False, False
        self.token_down, self.deny, self.end_session = False, False, True

    def rotate(self, keep_old: bool = False) -> None:
        """A new signing key; the old one is published alongside, or not at all."""
        self.keys = [*self.keys, new_key()] if keep_old else [new_key()]

    # --- endpoints ---

    async def discovery(self, request: Request) -> Response:
        doc = {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "userinfo_endpoint": f"{self.issuer}/userinfo",
            "jwks_uri": f"{self.issuer}/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic"],
            "code_challenge_methods_supported": ["S256"],
            "scopes_supported": ["openid", "email", "profile"],
        }
        if self.end_session:
            doc["end_session_endpoint"] = f"{self.issuer}/logout"
        return JSONResponse(doc)

    async def jwks(self, request: Request) -> Response:
        return JSONResponse({"keys": [key.as_dict(private=False) for key in self.keys]})

    async def authorize(self, request: Request) -> Response:
        q = request.query_params
        if q.get("client_id") != CLIENT_ID or q.get("response_type") != "code" \
                or q.get("code_challenge_method") != "S256" or "openid" not in \
                q.get("scope", "").split() or not q.get("redirect_uri", "").startswith("http"):
            return JSONResponse({"error": "invalid_request"}, status_code=400)
        back = q["redirect_uri"]
        if self.deny:
            return RedirectResponse(f"{back}?{urlencode({'error': 'access_denied', 'state': q['state']})}",
                                    status_code=302)
        code = secrets.token_urlsafe(24)
        self.codes[code] = {"user": self.user, "nonce": q.get("nonce"), "redirect_uri": back,
                            "challenge": q.get("code_challenge")}
        return RedirectResponse(f"{back}?{urlencode({'code': code, 'state': q['state']})}",
                                status_code=302)

    def _client_ok(self, request: Request) -> bool:
        scheme, _, value = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "basic":
            return False
        user, _, password = base64.b64decode(value).decode().partition(":")
        return (user, password) == (CLIENT_ID, CLIENT_SECRET)

    async def token(self, request: Request) -> Response:
        if self.token_down:
            return JSONResponse({"error": "temporarily_unavailable"}, status_code=503)
        if not self._client_ok(request):
            return JSONResponse({"error": "invalid_client"}, status_code=401)
        form = await request.form()
        grant = self.codes.pop(str(form.get("code")), None)  # one use only
        if form.get("grant_type") != "authorization_code" or grant is None \
                or form.get("redirect_uri") != grant["redirect_uri"] \
                or create_s256_code_challenge(str(form.get("code_verifier"))) != grant["challenge"]:
            return JSONResponse({"error": "invalid_grant"}, status_code=400)
        user: TestUser = grant["user"]
        now = int(time.time())
        everything = {"sub": user.sub, "email": user.email, "email_verified": user.email_verified,
                      "name": user.name, "groups": user.groups}
        everything = {k: v for k, v in everything.items() if v is not None}
        claims = {"iss": self.issuer, "aud": CLIENT_ID, "iat": now, "exp": now + 300,
                  "nonce": grant["nonce"]}
        claims |= {k: v for k, v in everything.items() if k not in user.userinfo_only}
        claims |= self.claims
        key = new_key() if self.foreign_key else self.keys[-1]
        id_token = jwt.encode({"alg": "RS256", "kid": key.kid}, claims, key)
        if self.tamper:
            head, _, signature = id_token.split(".")
            body = json.dumps(claims | {"email": "someone.else@uni.edu"}).encode()
            payload = base64.urlsafe_b64encode(body).rstrip(b"=").decode()
            id_token = ".".join([head, payload, signature])
        access_token = secrets.token_urlsafe(24)
        self.access_tokens[access_token] = everything
        return JSONResponse({"access_token": access_token, "token_type": "Bearer",
                             "expires_in": 300, "id_token": id_token})

    async def userinfo(self, request: Request) -> Response:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        claims = self.access_tokens.get(token) if scheme.lower() == "bearer" else None
        if claims is None:
            return JSONResponse({"error": "invalid_token"}, status_code=401)
        return JSONResponse(claims)

    async def logout(self, request: Request) -> Response:
        back = request.query_params.get("post_logout_redirect_uri")
        if request.query_params.get("client_id") != CLIENT_ID:
            return JSONResponse({"error": "invalid_request"}, status_code=400)
        return RedirectResponse(back) if back else Response("Signed out of the university.")

    def app(self) -> Starlette:
        return Starlette(routes=[
            Route("/.well-known/openid-configuration", self.discovery),
            Route("/jwks", self.jwks),
            Route("/authorize", self.authorize),
            Route("/token", self.token, methods=["POST"]),
            Route("/userinfo", self.userinfo),
            Route("/logout", self.logout),
        ])


@contextmanager
def running() -> Iterator[Provider]:
    provider = Provider()
    with serve(provider.app(), "/.well-known/openid-configuration") as base_url:
        provider.issuer = base_url
        yield provider


def sso_settings(provider: Provider, **overrides: Any) -> dict[str, Any]:
    """Settings for an app that signs in through ``provider``: staff and admins by group."""
    return {
        "oidc_issuer": provider.issuer, "oidc_client_id": CLIENT_ID,
        "oidc_client_secret": CLIENT_SECRET, "oidc_label": "Example University",
        "oidc_email_domains": ["uni.edu"], "oidc_roles_claim": "groups",
        "oidc_staff_values": ["career-staff"], "oidc_admin_values": ["rapport-admins"],
    } | overrides
