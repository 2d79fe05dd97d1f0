"""Visitor sessions: who holds a kernel, and the limit beyond which a visitor gets the busy page."""

from __future__ import annotations


class Reservation:
    """One visitor's claim on a session, from the page request until its kernel is known."""

    kernel_id: str | None = None


class Sessions:
    """Visitor sessions of one server: the kernels handed to visitors (preheated or started for
    them), plus page requests still waiting for theirs. Pool kernels waiting for a visitor
    are not sessions."""

    def __init__(self, kernel_manager, limit: int):
        self.kernel_manager = kernel_manager
        self.limit = limit
        self.kernels: set[str] = set()
        self.waiting: set[Reservation] = set()

    def live(self) -> int:
        self.kernels &= set(self.kernel_manager.list_kernel_ids())
        return len(self.kernels) + sum(1 for reservation in self.waiting if reservation.kernel_id is None)

    def reserve(self) -> Reservation | None:
        """A reservation, or None when every session is taken."""
        if self.live() >= self.limit:
            return None
        reservation = Reservation()
        self.waiting.add(reservation)
        return reservation

    def assign(self, reservation: Reservation, kernel_id: str) -> None:
        """A request's kernel is known: it is a session from now until it ends."""
        reservation.kernel_id = kernel_id
        self.kernels.add(kernel_id)

    def release(self, reservation: Reservation) -> None:
        self.waiting.discard(reservation)

    def counts(self) -> dict:
        return {
            "kernels": len(self.kernel_manager.list_kernel_ids()),
            "sessions": self.live(),
            "max_sessions": self.limit,
            "pool": self.kernel_manager.get_pool_size(getattr(self.kernel_manager, "notebook_path", None)),
        }
