#!/usr/bin/env python3
"""A healthy and faulty HTTP/1.1 backend for scripts/reliability/soak.sh (stdlib only).

One port; what a request gets depends on its path:
  /ok...     200 with a 1 KiB JSON body, keep-alive
  /reset     reads the request, then resets the connection (RST through SO_LINGER 0)
  /cut       a 200 head announcing 64 KiB, 4 KiB of body, then RST
  /stall     reads the request and never answers (until the peer closes)
  /garbage   answers bytes that are not HTTP, then closes
  /half      shuts down its write side after the request (FIN), keeps reading
  /drip      a small 200 response written one byte every 5 ms
It also reserves a port that nothing listens on (the "refuse" fault). The two ports are written to
the file given as the first argument ("PORT REFUSED_PORT"), once the server listens.

The Rust tests have their own, richer fault proxy (crates/conflux/tests/support/fault_proxy.rs).
"""

import asyncio
import socket
import struct
import sys

OK_BODY = (b'{"ok": true, "pad": "' + b"x" * 990 + b'"}')
CUT_ANNOUNCED = 64 * 1024
CUT_SENT = 4 * 1024
DRIP_EVERY_S = 0.005
MAX_HEAD = 64 * 1024


def reset(writer):
    sock = writer.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


async def drain(reader):
    try:
        while await reader.read(4096):
            pass
    except (ConnectionError, OSError):
        pass


async def read_request(reader):
    """The path of the next request (its body is read and dropped), or None at EOF."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError, OSError):
        return None
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) < 2:
        return None
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            try:
                length = int(value.strip())
            except ValueError:
                return None
    if length:
        try:
            await reader.readexactly(length)
        except (asyncio.IncompleteReadError, ConnectionError, OSError):
            return None
    return parts[1]


def response(body, extra=b""):
    return (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
            + str(len(body)).encode() + b"\r\n" + extra + b"\r\n" + body)


async def serve(reader, writer):
    try:
        while True:
            path = await read_request(reader)
            if path is None:
                break
            if path.startswith("/ok"):
                writer.write(response(OK_BODY))
                await writer.drain()
            elif path.startswith("/reset"):
                reset(writer)
                return
            elif path.startswith("/cut"):
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
                             b"Content-Length: " + str(CUT_ANNOUNCED).encode() + b"\r\n\r\n"
                             + b"c" * CUT_SENT)
                await writer.drain()
                await asyncio.sleep(0.02)
                reset(writer)
                return
            elif path.startswith("/stall"):
                await drain(reader)
                break
            elif path.startswith("/garbage"):
                writer.write(b"\x16\x03\x01\x00\x2a SSH-2.0-not-http \x00\xff\r\n\r\n")
                await writer.drain()
                break
            elif path.startswith("/half"):
                writer.write_eof()
                await drain(reader)
                break
            elif path.startswith("/drip"):
                for byte in response(b'{"dripped": true}'):
                    writer.write(bytes([byte]))
                    await writer.drain()
                    await asyncio.sleep(DRIP_EVERY_S)
            else:
                writer.write(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
                await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        writer.close()


async def main(port_file):
    server = await asyncio.start_server(serve, "127.0.0.1", 0, limit=MAX_HEAD, backlog=1024)
    port = server.sockets[0].getsockname()[1]
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    refused_port = closed.getsockname()[1]
    closed.close()
    with open(port_file, "w") as f:
        f.write(f"{port} {refused_port}\n")
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: fault_backend.py PORT_FILE")
    asyncio.run(main(sys.argv[1]))
