"""Voilà's server, extended: a session limit and its busy page, session counts, a kernel check for the
page, a Content-Security-Policy with a per-request nonce, and compressed, cached static files
(``delivery``). Imported by ``serve()`` only: the CLI and the kernels never load jupyter_server."""

from __future__ import annotations

import functools
import json

import tornado.ioloop
import tornado.web
from jupyter_core.utils import ensure_async
from jupyter_server.base.handlers import APIHandler, FileFindHandler
from jupyter_server.services.contents.largefilemanager import LargeFileManager
from jupyter_server.services.kernels.kernelmanager import AsyncMappingKernelManager
from jupyter_server.utils import url_path_join
from traitlets import Integer
from voila.app import Voila
from voila.static_file_handler import MultiStaticFileHandler, TemplateStaticFileHandler
from voila.tornado.handler import TornadoVoilaHandler

from .. import api
from ..bundle import list_bundles
from ..ratelimit import RateLimit
from ..web.preview import render as render_preview
from . import delivery
from .paths import KERNEL_PATH, RETRY_AFTER_S, SESSIONS_PATH, TEMPLATE, TEMPLATES, static_cache_dir
from .sessions import Reservation, Sessions


class KernelManager(AsyncMappingKernelManager):
    """Remembers which kernels were restarted: a restarted kernel has lost its page's
    widgets, so that page is told to reload."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.restarted: set[str] = set()

    async def start_kernel(self, *args, **kwargs):
        kernel_id = await super().start_kernel(*args, **kwargs)
        self.add_restart_callback(kernel_id, lambda: self.restarted.add(kernel_id), "restart")
        return kernel_id

    def serves_page(self, kernel_id: str) -> bool:
        self.restarted &= set(self.list_kernel_ids())
        return kernel_id in self and kernel_id not in self.restarted


class AssigningKernelManager:
    """The kernel manager as one page request sees it: the kernel it gets (from the pool, or
    started for it) is that request's session."""

    def __init__(self, manager, sessions: Sessions, reservation: Reservation):
        self._manager = manager
        self._sessions = sessions
        self._reservation = reservation

    def __getattr__(self, name):
        return getattr(self._manager, name)

    async def get_rendered_notebook(self, *args, **kwargs):
        result = await self._manager.get_rendered_notebook(*args, **kwargs)
        self._sessions.assign(self._reservation, result[2])  # (render task, rendered cells, kernel id)
        return result

    async def start_kernel(self, *args, **kwargs):
        kernel_id = await ensure_async(self._manager.start_kernel(*args, **kwargs))
        self._sessions.assign(self._reservation, kernel_id)
        return kernel_id


class PageHandler(TornadoVoilaHandler):
    """Voilà's page behind the session limit; sets the ``_xsrf`` cookie that the unload
    beacon sends back, and a Content-Security-Policy whose nonce its own scripts carry."""

    nonce = delivery.new_nonce()  # replaced per request in prepare()

    @property
    def kernel_manager(self):
        return getattr(self, "_assigning", None) or self.settings["kernel_manager"]

    @property
    def content_security_policy(self) -> str:
        return delivery.content_security_policy(self.nonce)

    async def prepare(self):
        self.nonce = delivery.new_nonce()
        self.set_header("Content-Security-Policy", self.content_security_policy)
        return await super().prepare()

    def write(self, chunk):
        if isinstance(chunk, str):
            chunk = delivery.add_nonce(chunk, self.nonce)
        return super().write(chunk)

    @tornado.web.authenticated
    async def get(self, path=None):
        if path:  # not the page: Voilà redirects to the file
            return await super().get(path)
        sessions: Sessions = self.settings["patentrnn_sessions"]
        reservation = sessions.reserve()
        if reservation is None:
            self.log.warning("busy: %d of %d sessions taken, answered 503", sessions.live(), sessions.limit)
            self.set_status(503)
            self.set_header("Retry-After", str(RETRY_AFTER_S))
            self.set_header("Content-Type", "text/html; charset=utf-8")
            self.set_header("Cache-Control", "no-store")
            return self.finish(self.settings["patentrnn_busy_page"])
        self.xsrf_token  # noqa: B018 - sets the _xsrf cookie (voila-dashboards/voila#1458)
        self._assigning = AssigningKernelManager(self.settings["kernel_manager"], sessions, reservation)
        try:
            await super().get(path)
        finally:
            sessions.release(reservation)


class VoilaStatic(delivery.CompressedStatic, MultiStaticFileHandler):
    pass


class TemplateStatic(delivery.CompressedStatic, TemplateStaticFileHandler):
    pass


class ExtensionStatic(delivery.CompressedStatic, FileFindHandler):
    pass


class SessionsHandler(APIHandler):
    """Kernel and session counts of this server, as JSON."""

    @tornado.web.authenticated
    def get(self):
        self.set_header("Cache-Control", "no-store")
        self.finish(json.dumps(self.settings["patentrnn_sessions"].counts()))


class KernelHandler(APIHandler):
    """204 while a kernel serves its page; 410 once it is gone or was restarted."""

    @tornado.web.authenticated
    def get(self, kernel_id):
        self.set_header("Cache-Control", "no-store")
        self.set_status(204 if self.kernel_manager.serves_page(kernel_id) else 410)
        self.finish()


class ServedContents(LargeFileManager):
    """The notebooks served are the repository's own, and Voilà runs them whatever their signature:
    their cells are marked trusted without jupyter_server's "Notebook app.ipynb is not trusted"
    warning in the log on every visit."""

    def mark_trusted_cells(self, nb, path=""):
        self.notary.mark_cells(nb, True)


class VoilaServer(Voila):
    max_sessions = Integer(1, config=True, help="live visitor sessions before the busy page")
    api_workers = Integer(1, config=True, help="the HTTP API's worker processes")
    api_queue = Integer(16, config=True, help="HTTP API requests that may wait for a worker")

    def init_settings(self):
        self.voila_configuration.multi_kernel_manager_class = KernelManager
        self.voila_configuration.page_config_hook = self.page_config
        settings = super().init_settings()
        self.contents_manager = settings["contents_manager"] = ServedContents(parent=self)
        settings["compress_response"] = True  # the page and JSON, gzipped as they stream
        settings["websocket_compression_options"] = {}  # permessage-deflate for the kernel's messages
        settings["patentrnn_precompressed"] = delivery.Precompressed(static_cache_dir())
        settings["patentrnn_versioned_prefixes"] = (self.versioned_static_url + "/",)
        settings["patentrnn_sessions"] = Sessions(self.kernel_manager, self.max_sessions)
        busy = (TEMPLATES / "voila/templates" / TEMPLATE / "busy.html").read_text()
        settings["patentrnn_busy_page"] = busy.replace("RETRY_AFTER_S", str(RETRY_AFTER_S))  # its reload
        limit = RateLimit.from_env()  # (the page's settings, which serve() put in the environment)
        self.api = api.start(list_bundles(), self.api_workers, self.api_queue, limit.rate, limit.burst,
                             self.server_url)  # fmt: skip
        tornado.ioloop.IOLoop.current().add_callback(self.api.pool.start)
        return settings

    def stop(self):
        self.api.pool.close()
        super().stop()

    @functools.cached_property
    def versioned_static_url(self) -> str:
        """Voilà's static files under a URL that changes with them, so they can be cached for good."""
        version = delivery.static_version(self.static_paths)
        return url_path_join(self.server_url, f"voila/static/v-{version}")

    def page_config(self, page_config: dict, **_) -> dict:
        """The page loads voila.js and its chunks from :attr:`versioned_static_url`; the app's preview
        names this server's models (the template takes it out of the page's config data); the page's
        script asks :data:`KERNEL_PATH` whether its kernel still serves it."""
        preview = render_preview(list_bundles())
        check = url_path_join(self.server_url, KERNEL_PATH)  # the lost-session check (lost-session.html)
        return {**page_config, "fullStaticUrl": self.versioned_static_url, "patentrnnPreview": preview,
                "patentrnnKernelCheck": check}  # fmt: skip

    def init_handlers(self):
        replaced = {
            TornadoVoilaHandler: PageHandler,
            MultiStaticFileHandler: VoilaStatic,
            TemplateStaticFileHandler: TemplateStatic,
            FileFindHandler: ExtensionStatic,
        }
        handlers = [
            (pattern, replaced.get(handler, handler), *rest) for pattern, handler, *rest in super().init_handlers()
        ]
        missing = set(replaced.values()) - {handler for _, handler, *_ in handlers}
        assert not missing, f"Voilà's handlers have moved: {missing}"
        kernel_id = r"(?P<kernel_id>\w+-\w+-\w+-\w+-\w+)"
        ours = [
            (url_path_join(self.server_url, SESSIONS_PATH), SessionsHandler),
            (url_path_join(self.server_url, KERNEL_PATH + kernel_id), KernelHandler),
            (self.versioned_static_url + "/(.*)", VoilaStatic, {"paths": self.static_paths}),
            *self.api.routes(),
        ]
        return ours + handlers  # before the page's catch-all pattern
