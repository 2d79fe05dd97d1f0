// The kernel's websocket, opened by the page's inline script (index.html.j2) while this script was still
// downloading, handed to the KernelConnection. Opening it here instead cost a 130 ms task on a phone's
// CPU (4x) right before the form could show, and started the connection a download later.
export function adopt(early) {
  let taken = false;
  return function PageSocket(url, protocols) {
    const socket = early.socket;
    const usable = socket.readyState === WebSocket.CONNECTING || socket.readyState === WebSocket.OPEN;
    if (taken || url !== early.url || !usable) {
      if (!taken && usable) socket.close(); // not the one wanted: no second connection to the kernel
      taken = true;
      return new WebSocket(url, protocols);
    }
    taken = true;
    // already open: the connection's handlers were not there to hear it
    if (socket.readyState === WebSocket.OPEN) setTimeout(() => socket.onopen && socket.onopen(new Event("open")));
    return socket;
  };
}
