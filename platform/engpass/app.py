"""The application factory."""

from __future__ import annotations

from contextlib import suppress
from typing import Any

from flask import Flask, abort, g, has_request_context, redirect, render_template, request, session, url_for
from flask_babel import format_currency, format_date, format_datetime, get_locale
from flask_login import current_user
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException, ServiceUnavailable
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.wrappers import Response

from engpass import (
    cached_pages,
    compression,
    features,
    models,  # noqa: F401  (every mapper configured before the first query)
    routing,
    security_headers,
    static_assets,
    tenancy,
)
from engpass.accounts.models import User
from engpass.api.problems import is_api_request, problem_response
from engpass.consulting.service import clients_of
from engpass.db import db
from engpass.extensions import babel, cache, csrf, limiter, login_manager
from engpass.feature import load
from engpass.formatting import file_size
from engpass.gateway.web import load_user
from engpass.i18n import LANGUAGES, bound_template_gettext, role_label, select_locale, select_timezone
from engpass.organizations.context import LAST_ORG_KEY, has_role, landing_membership, landing_url
from engpass.organizations.memberships import memberships_of
from engpass.organizations.permissions import can
from engpass.outbox.publisher import CeleryPublisher
from engpass.outbox.service import EXTENSION_KEY, install_relay_hooks
from engpass.page_cache import install_invalidation_hooks, page_cache
from engpass.settings import REPO_ROOT, Settings


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or Settings.from_env()
    app = Flask(
        "engpass",
        template_folder=str(REPO_ROOT / "templates"),
        static_folder="static",
        instance_path=settings.instance_dir,
    )
    app.config.update(
        SECRET_KEY=settings.secret_key,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.uses_https,
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_SECURE=settings.uses_https,
        PREFERRED_URL_SCHEME="https" if settings.uses_https else "http",
        MAX_CONTENT_LENGTH=2 * 1024 * 1024,
        WTF_CSRF_TIME_LIMIT=None,
        BABEL_DEFAULT_LOCALE="de",
        BABEL_DEFAULT_TIMEZONE="Europe/Berlin",
        BABEL_TRANSLATION_DIRECTORIES=str(REPO_ROOT / "platform" / "engpass" / "translations"),
        RATELIMIT_STORAGE_URI=settings.redis_url or "memory://",
        RATELIMIT_ENABLED=settings.rate_limits_enabled,
        RATELIMIT_HEADERS_ENABLED=True,
        # Redis down: count in this process's memory with the same limits (the login stays limited) instead
        # of failing every limited request; an error the fallback does not cover is logged, not raised.
        RATELIMIT_IN_MEMORY_FALLBACK_ENABLED=True,
        RATELIMIT_SWALLOW_ERRORS=True,
        CACHE_TYPE="RedisCache" if settings.redis_url else "SimpleCache",
        CACHE_REDIS_URL=settings.redis_url or None,
        CACHE_KEY_PREFIX="engpass:",
        CACHE_DEFAULT_TIMEOUT=6 * 3600,
    )
    app.extensions["engpass.settings"] = settings
    routing.install(app)
    if settings.proxy_count:
        # Behind a load balancer the client address is in X-Forwarded-For; the per-IP login limit needs it.
        n = settings.proxy_count
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)  # type: ignore[method-assign]

    db.configure(settings.database_url, statement_timeout_ms=settings.statement_timeout_ms)
    page_cache.configure(settings.redis_url)
    app.extensions[EXTENSION_KEY] = CeleryPublisher(settings.broker_url)

    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message_category = "info"
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    limiter.init_app(app)
    cache.init_app(app)
    static_assets.init_app(app)
    compression.init_app(app)
    cached_pages.init_app(app)

    _register_user_loader()
    _register_blueprints(app)
    _register_request_hooks(app)
    _register_error_handlers(app)
    return app


def _register_user_loader() -> None:
    @login_manager.user_loader
    def _load_user(user_id: str) -> User | None:
        ident, _, token = user_id.partition(":")
        if not ident.isdigit() or not token:
            return None
        # The token is checked there: a changed password rotates it, which ends every older session.
        return load_user(int(ident), token)

    login_manager.localize_callback = _lazy_login_message


def _lazy_login_message(message: str) -> str:
    from flask_babel import gettext

    return gettext(message)


def _register_blueprints(app: Flask) -> None:
    for blueprint in features.blueprints():
        app.register_blueprint(blueprint)
    for feature in features.FEATURES:
        for reference in feature.csrf_exempt:
            csrf.exempt(load(reference))
    for feature in features.FEATURES:
        if feature.setup is not None:
            load(feature.setup)(app)

    @app.route("/")
    def index() -> Response | str:
        if current_user.is_authenticated:
            membership = landing_membership(db.session, current_user.id, session.get(LAST_ORG_KEY))
            if membership is not None:
                return redirect(landing_url(membership))
            return redirect(url_for("organizations_public.no_organization"))
        return render_template("landing.html")


def _register_request_hooks(app: Flask) -> None:
    install_relay_hooks()
    install_invalidation_hooks(db.factory)

    @app.teardown_appcontext
    def _end_session(_exc: BaseException | None) -> None:
        db.remove()
        tenancy.clear()

    @app.before_request
    def _refuse_json_outside_the_api() -> None:
        # The pages' forms read form fields; Flask-WTF would read a JSON body as the form, and a list, a
        # number, a nested value or a body nested too deep for the parser is then an error deep in a form.
        # An address that names no page stays a 404 (its routing error is raised after these hooks).
        if request.is_json and request.content_length != 0 and request.endpoint and not is_api_request():
            abort(400)

    @app.before_request
    def _refuse_nul_bytes() -> None:
        # No database text field can hold NUL; refuse such input before it reaches one.
        values = [request.path, *request.args.values()]
        if request.method in ("POST", "PUT", "PATCH"):
            # Only requests that carry a form; parsing an absent one on every GET costs more than it finds.
            values.extend(request.form.values())
        if any("\x00" in value for value in values):
            abort(400)

    @app.context_processor
    def _shell_context() -> dict[str, Any]:
        # Once per request, however many templates (a page and its cached fragments) are rendered.
        if "my_memberships" not in g:
            # No user at all outside a request: workers render e-mails with the same templates.
            signed_in = has_request_context() and current_user.is_authenticated
            g.my_memberships = memberships_of(db.session, current_user.id) if signed_in else []
        memberships = g.my_memberships
        if "my_clients" not in g:
            # Inside a client, a consultant's switcher lists the consultancy's other clients too.
            inside_a_client = has_request_context() and g.get("consulting") is not None
            g.my_clients = [org for org, _level in clients_of(db.session, current_user.id)] if inside_a_client else []
        return {
            "my_memberships": memberships,
            "my_clients": g.my_clients,
            "languages": LANGUAGES,
            # Templates show and hide controls through the permission matrix (``can('edit_cycle')``);
            # has_role stays for the few places that ask about the role itself.
            "can": can,
            "has_role": has_role,
            "role_label": role_label,
            "get_locale": get_locale,
            "format_currency": format_currency,
            "format_date": format_date,
            "format_datetime": format_datetime,
            "file_size": file_size,
            # A page's dozens to hundreds of ``_()`` take the catalogue bound here instead of asking
            # Flask-Babel for it string by string; a rendering for someone else (an e-mail) binds its own.
            **bound_template_gettext(),
        }

    @app.after_request
    def _security_headers(response: Response) -> Response:
        return security_headers.apply(response, request)


def _register_error_handlers(app: Flask) -> None:
    unavailable_page = (REPO_ROOT / "templates" / "errors" / "unavailable.html").read_text()

    @app.errorhandler(OperationalError)
    def _database_unavailable(error: OperationalError) -> Any:
        # The database is unreachable (a restart, a failover): 503 at once, with a hint when to retry. Nothing
        # here may touch the database, so the page is plain HTML (the layout reads the user and the language).
        # The pool's pre-ping replaces the dead connections on the next request once it is back.
        app.logger.warning("database unavailable: %s", error.orig)
        with suppress(Exception):
            db.session.remove()
        unavailable = ServiceUnavailable(retry_after=30)
        if is_api_request():
            return problem_response(unavailable)
        return unavailable_page, 503, {"Retry-After": "30"}

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> Any:
        # An error answer saves nothing, and the page reads the user and their organizations: after a failed
        # statement PostgreSQL refuses every query until the transaction is rolled back.
        db.session.rollback()
        if is_api_request():
            return problem_response(error)
        if request.path == "/healthz" or request.accept_mimetypes.best == "application/json":
            return {"error": error.name, "status": error.code}, error.code
        return render_template("errors/error.html", error=error), error.code
