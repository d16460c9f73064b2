#!/usr/bin/env python3
"""Test-only HTTP shim between snowflake-connector-rs and fakesnow's server.

fakesnow (0.12.1) speaks the Snowflake drivers' REST protocol but differs from
Snowflake where the Rust connector is concerned; this shim forwards every
request to fakesnow and patches exactly those differences:

* a login request without SESSION_PARAMETERS makes fakesnow answer 500, so an
  empty map is supplied;
* fakesnow returns query results as Arrow (`rowsetBase64`); the Rust connector
  reads only JSON rowsets, so results are re-encoded with Snowflake's JSON
  string encodings (NUMBER as decimal text, DATE as days since the epoch, TIME
  as seconds.nanos, TIMESTAMP_* as epoch seconds.nanos, TIMESTAMP_TZ with the
  offset in minutes + 1440, BOOLEAN as 1/0, BINARY as hex, NULL as null);
* error answers carry no queryId, which the connector requires, so one is added.

Python standard library only: it runs with whatever interpreter the fakesnow
virtual environment has, and decodes the Arrow IPC stream itself.

Usage: shim.py --port PORT --upstream http://127.0.0.1:FAKESNOW_PORT
"""

from __future__ import annotations

import argparse
import base64
import gzip
import json
import struct
import sys
import urllib.error
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# --- a minimal flatbuffers reader ------------------------------------------------


class Table:
    """One flatbuffers table: fields are looked up through its vtable."""

    def __init__(self, buf: bytes, pos: int):
        self.buf = buf
        self.pos = pos
        vtable = pos - struct.unpack_from("<i", buf, pos)[0]
        self.vtable = vtable
        self.vtable_len = struct.unpack_from("<H", buf, vtable)[0]

    def _offset(self, slot: int) -> int:
        entry = 4 + 2 * slot
        if entry >= self.vtable_len:
            return 0
        return struct.unpack_from("<H", self.buf, self.vtable + entry)[0]

    def scalar(self, slot: int, fmt: str, default):
        off = self._offset(slot)
        if not off:
            return default
        return struct.unpack_from("<" + fmt, self.buf, self.pos + off)[0]

    def _indirect(self, slot: int) -> int | None:
        off = self._offset(slot)
        if not off:
            return None
        at = self.pos + off
        return at + struct.unpack_from("<I", self.buf, at)[0]

    def table(self, slot: int) -> Table | None:
        at = self._indirect(slot)
        return None if at is None else Table(self.buf, at)

    def string(self, slot: int) -> str | None:
        at = self._indirect(slot)
        if at is None:
            return None
        length = struct.unpack_from("<I", self.buf, at)[0]
        return self.buf[at + 4 : at + 4 + length].decode("utf-8")

    def vector(self, slot: int) -> tuple[int, int]:
        """(start of the elements, element count); (0, 0) when absent."""
        at = self._indirect(slot)
        if at is None:
            return 0, 0
        return at + 4, struct.unpack_from("<I", self.buf, at)[0]

    def tables(self, slot: int) -> list[Table]:
        start, count = self.vector(slot)
        out = []
        for i in range(count):
            at = start + 4 * i
            out.append(Table(self.buf, at + struct.unpack_from("<I", self.buf, at)[0]))
        return out

    def structs(self, slot: int, fmt: str) -> list[tuple]:
        start, count = self.vector(slot)
        size = struct.calcsize("<" + fmt)
        return [struct.unpack_from("<" + fmt, self.buf, start + i * size) for i in range(count)]


# --- Arrow IPC stream ------------------------------------------------------------

# Message.header union tags and Type union tags from Arrow's Message.fbs / Schema.fbs.
SCHEMA, RECORD_BATCH = 1, 3
T_NULL, T_INT, T_FLOAT, T_BINARY, T_UTF8, T_BOOL, T_DECIMAL, T_DATE, T_TIME, T_TIMESTAMP = range(1, 11)
T_STRUCT, T_FIXED_BINARY, T_LARGE_BINARY, T_LARGE_UTF8 = 13, 15, 19, 20


class Field:
    def __init__(self, table: Table):
        self.name = table.string(0) or ""
        self.type_id = table.scalar(2, "B", 0)
        self.type = table.table(3)
        self.children = [Field(child) for child in table.tables(5)]


def read_messages(data: bytes):
    """Yields (header type, header table, body bytes) for each message of a stream."""
    pos = 0
    while pos + 8 <= len(data):
        size = struct.unpack_from("<i", data, pos)[0]
        pos += 4
        if size == -1:  # continuation marker, then the real size
            size = struct.unpack_from("<i", data, pos)[0]
            pos += 4
        if size == 0:
            return
        message = Table(data, pos + struct.unpack_from("<I", data, pos)[0])
        pos += size
        body_length = message.scalar(3, "q", 0)
        body = data[pos : pos + body_length]
        pos += body_length
        yield message.scalar(1, "B", 0), message.table(2), body


class Batch:
    """Walks a record batch's field nodes and buffers in schema order."""

    def __init__(self, header: Table, body: bytes):
        if header.table(3) is not None:
            raise ValueError("compressed Arrow record batches are not supported by the shim")
        self.length = header.scalar(0, "q", 0)
        self.nodes = iter(header.structs(1, "qq"))
        self.buffers = iter(header.structs(2, "qq"))
        self.body = body

    def buffer(self) -> bytes:
        offset, length = next(self.buffers)
        return self.body[offset : offset + length]


def valid(bitmap: bytes, null_count: int, i: int) -> bool:
    return null_count == 0 or not bitmap or bool(bitmap[i >> 3] & (1 << (i & 7)))


def read_column(field: Field, batch: Batch) -> list:
    """One column as Python values (None for NULL); structs become dicts."""
    length, null_count = next(batch.nodes)
    if field.type_id == T_NULL:
        return [None] * length
    bitmap = batch.buffer()
    t = field.type_id
    if t == T_STRUCT:
        children = {child.name: read_column(child, batch) for child in field.children}
        return [
            {name: values[i] for name, values in children.items()} if valid(bitmap, null_count, i) else None
            for i in range(length)
        ]
    if t in (T_UTF8, T_BINARY, T_LARGE_UTF8, T_LARGE_BINARY):
        wide = t in (T_LARGE_UTF8, T_LARGE_BINARY)
        offsets = struct.unpack_from(f"<{length + 1}{'q' if wide else 'i'}", batch.buffer())
        data = batch.buffer()
        raw = [data[offsets[i] : offsets[i + 1]] for i in range(length)]
        if t in (T_UTF8, T_LARGE_UTF8):
            raw = [r.decode("utf-8") for r in raw]
        return [raw[i] if valid(bitmap, null_count, i) else None for i in range(length)]
    data = batch.buffer()
    if t == T_BOOL:
        values = [bool(data[i >> 3] & (1 << (i & 7))) for i in range(length)]
    elif t == T_INT:
        width, signed = field.type.scalar(0, "i", 0), field.type.scalar(1, "?", False)
        code = {8: "b", 16: "h", 32: "i", 64: "q"}[width]
        values = list(struct.unpack_from(f"<{length}{code if signed else code.upper()}", data))
    elif t == T_FLOAT:
        code = {0: "e", 1: "f", 2: "d"}[field.type.scalar(0, "h", 0)]
        values = list(struct.unpack_from(f"<{length}{code}", data))
    elif t == T_DECIMAL:
        width = field.type.scalar(2, "i", 128) // 8
        values = [int.from_bytes(data[i * width : (i + 1) * width], "little", signed=True) for i in range(length)]
    elif t == T_DATE:
        day_unit = field.type.scalar(0, "h", 1) == 0
        values = list(struct.unpack_from(f"<{length}{'i' if day_unit else 'q'}", data))
        if not day_unit:
            values = [v // 86_400_000 for v in values]
    elif t in (T_TIME, T_TIMESTAMP):
        width = 32 if t == T_TIME and field.type.scalar(1, "i", 32) == 32 else 64
        values = list(struct.unpack_from(f"<{length}{'i' if width == 32 else 'q'}", data))
    elif t == T_FIXED_BINARY:
        width = field.type.scalar(0, "i", 0)
        values = [data[i * width : (i + 1) * width] for i in range(length)]
    else:
        raise ValueError(f"Arrow type {t} of column {field.name} is not supported by the shim")
    return [values[i] if valid(bitmap, null_count, i) else None for i in range(length)]


def read_arrow(data: bytes) -> list[list]:
    """All rows of an Arrow IPC stream."""
    fields: list[Field] = []
    rows: list[list] = []
    for kind, header, body in read_messages(data):
        if kind == SCHEMA:
            fields = [Field(f) for f in header.tables(1)]
        elif kind == RECORD_BATCH:
            batch = Batch(header, body)
            columns = [read_column(f, batch) for f in fields]
            rows.extend([list(row) for row in zip(*columns)] if columns else [[] for _ in range(batch.length)])
    return rows


# --- Snowflake's JSON cell encodings --------------------------------------------


def decimal_text(unscaled: int, scale: int) -> str:
    if scale <= 0:
        return str(unscaled)
    sign = "-" if unscaled < 0 else ""
    digits = str(abs(unscaled)).rjust(scale + 1, "0")
    return f"{sign}{digits[:-scale]}.{digits[-scale:]}"


def seconds_text(nanos: int) -> str:
    """Nanoseconds since an origin as Snowflake's `<seconds>.<9 digits>`."""
    return decimal_text(nanos, 9)


def encode(value, column: dict) -> str | None:
    if value is None:
        return None
    kind = (column.get("type") or "text").lower()
    if kind == "fixed":
        # Arrow decimals arrive unscaled; integer columns carry the scale in the rowtype.
        return decimal_text(int(value), int(column.get("scale") or 0))
    if kind == "real":
        return repr(float(value))
    if kind == "boolean":
        return "1" if value else "0"
    if kind == "date":
        return str(int(value))
    if kind == "time":
        return seconds_text(int(value))
    if kind.startswith("timestamp"):
        if isinstance(value, dict):
            # A NULL timestamp_ntz/_tz arrives as a struct of nulls.
            if value.get("epoch") is None:
                return None
            text = seconds_text(value["epoch"] * 1_000_000_000 + value["fraction"])
            if kind == "timestamp_tz":
                text += f" {value.get('timezone', 1440)}"
            return text
        return seconds_text(int(value))
    if kind == "binary":
        return bytes(value).hex().upper()
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("utf-8", "replace")
    return str(value)


def to_json_result(data: dict) -> None:
    """Rewrites an Arrow result in place as a JSON rowset."""
    if data.get("queryResultFormat") != "arrow":
        return
    encoded = data.pop("rowsetBase64", "") or ""
    rows = read_arrow(base64.b64decode(encoded)) if encoded else []
    rowtype = data.get("rowtype") or []
    data["rowset"] = [[encode(v, c) for v, c in zip(row, rowtype)] for row in rows]
    data["queryResultFormat"] = "json"
    data["total"] = len(rows)
    data["returned"] = len(rows)


# --- the HTTP proxy --------------------------------------------------------------


class Shim(BaseHTTPRequestHandler):
    upstream = ""
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # quiet: the test prints fakesnow's log on failure
        pass

    def do_GET(self):
        self.forward(None)

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        self.forward(body)

    def forward(self, body: bytes | None):
        path = self.path.split("?", 1)[0]
        if body is not None and path == "/session/v1/login-request":
            login = json.loads(body)
            login.setdefault("data", {})
            if not login["data"].get("SESSION_PARAMETERS"):
                login["data"]["SESSION_PARAMETERS"] = {"QUERY_TAG": ""}
            body = json.dumps(login).encode()
        headers = {
            k: v
            for k, v in self.headers.items()
            if k.lower() not in ("host", "content-length", "content-encoding", "accept-encoding", "connection")
        }
        request = urllib.request.Request(self.upstream + self.path, data=body, headers=headers, method=self.command)
        try:
            with urllib.request.urlopen(request, timeout=600) as response:
                status, payload, content_type = response.status, response.read(), response.headers.get("Content-Type")
        except urllib.error.HTTPError as e:
            status, payload, content_type = e.code, e.read(), e.headers.get("Content-Type")
        except OSError as e:
            self.reply(502, json.dumps({"success": False, "message": f"shim: fakesnow unreachable: {e}"}).encode())
            return
        if path == "/queries/v1/query-request" and content_type and "json" in content_type:
            payload = self.patch_query_response(payload)
        self.reply(status, payload, content_type or "application/json")

    @staticmethod
    def patch_query_response(payload: bytes) -> bytes:
        answer = json.loads(payload)
        data = answer.get("data")
        if isinstance(data, dict):
            if answer.get("success"):
                to_json_result(data)
            else:
                data.setdefault("queryId", str(uuid.uuid4()))
                answer.setdefault("sqlState", data.get("sqlState"))
        return json.dumps(answer).encode()

    def reply(self, status: int, payload: bytes, content_type: str = "application/json"):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--upstream", required=True)
    args = parser.parse_args()
    Shim.upstream = args.upstream.rstrip("/")
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Shim)
    server.daemon_threads = True
    print(f"shim listening on 127.0.0.1:{args.port}, forwarding to {Shim.upstream}", flush=True)
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
