"""Flask extensions, created unbound and initialised in ``create_app``."""

from __future__ import annotations

from flask_babel import Babel
from flask_caching import Cache
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_wtf import CSRFProtect

login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
# Rendered page parts that only change with the data behind them (keyed by that data's version).
cache = Cache()
limiter = Limiter(key_func=get_remote_address, default_limits=[], headers_enabled=True)
