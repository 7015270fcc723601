#!/usr/bin/python3
"""GLib peer-to-peer D-Bus peers for the dbus adapter tests, written the way rpm-ostree does it.

server: a GDBusServer (flags NONE, unix:path) exporting org.projectatomic.rpmostree1.Transaction at
        "/" (interface info from the reference XML), like rpmostreed-transaction.cxx. Prints
        "ADDRESS <addr>" then one "EVENT <json>" line per method call it receives.
        --finish success|fail|never decides what Start leads to; Cancel makes a never-finishing
        transaction finish with failure, as rpm-ostree's cancellable does.
client: g_dbus_connection_new_for_address_sync(addr, AUTHENTICATION_CLIENT) plus a GDBusProxy at "/"
        with the XML's interface info, like rpmostree-clientlib.cxx transaction_connect: reads Title,
        subscribes, calls Start, waits for Finished, prints one JSON line, closes.
Run with /usr/bin/python3 (needs python3-gi).
"""
import argparse
import json
import signal
import sys

from gi.repository import Gio, GLib

IFACE = "org.projectatomic.rpmostree1.Transaction"


def load_iface(xml_path):
    with open(xml_path, encoding="utf-8") as f:
        node = Gio.DBusNodeInfo.new_for_xml(f.read())
    info = node.lookup_interface(IFACE)
    if info is None:
        raise SystemExit("interface %s not in %s" % (IFACE, xml_path))
    return info


def out(line):
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def run_server(args):
    info = load_iface(args.xml)
    loop = GLib.MainLoop()
    conns = []
    state = {"finished": None}

    def emit(conn, name, sig, values):
        conn.emit_signal(None, "/", IFACE, name, GLib.Variant(sig, values) if sig else None)

    def finish(success, message):
        state["finished"] = (success, message)
        for c in list(conns):
            if not c.is_closed():
                emit(c, "Finished", "(bs)", (success, message))

    def work(conn):
        emit(conn, "TaskBegin", "(s)", ("Resolving",))
        emit(conn, "Message", "(s)", ("hello from glib",))
        emit(conn, "PercentProgress", "(su)", ("Downloading", 50))
        emit(conn, "DownloadProgress", "((tt)(uu)(uuu)(uuut)(uu)(tt))",
             ((1, 2), (3, 4), (5, 6, 7), (8, 9, 10, 11), (12, 13), (14, 15)))
        emit(conn, "TaskEnd", "(s)", ("done",))
        emit(conn, "ProgressEnd", None, None)
        if args.finish == "success":
            finish(True, "")
        elif args.finish == "fail":
            finish(False, "simulated failure")
        return False

    def on_call(conn, sender, path, iface, method, params, invocation):
        out("EVENT " + json.dumps({"method": method, "sender": sender, "path": path}))
        if method == "Start":
            if state["finished"] is not None:
                invocation.return_value(GLib.Variant("(b)", (False,)))
                emit(conn, "Finished", "(bs)", state["finished"])
                return
            invocation.return_value(GLib.Variant("(b)", (True,)))
            GLib.idle_add(work, conn)
        elif method == "Cancel":
            invocation.return_value(None)
            if state["finished"] is None:
                finish(False, "Operation was cancelled")
        else:
            invocation.return_dbus_error("org.freedesktop.DBus.Error.UnknownMethod", method)

    def on_get(conn, sender, path, iface, prop):
        if prop == "Title":
            return GLib.Variant("s", args.title)
        if prop == "InitiatingClientDescription":
            return GLib.Variant("s", "glib-peer test")
        return None

    def on_new_connection(server, conn):
        conn.register_object("/", info, on_call, on_get, None)
        conns.append(conn)
        conn.connect("closed", lambda c, *_: (conns.remove(c) if c in conns else None,
                                               out("EVENT " + json.dumps({"closed": True}))))
        out("EVENT " + json.dumps({"connected": True}))
        return True

    guid = Gio.dbus_generate_guid()
    server = Gio.DBusServer.new_sync("unix:path=" + args.socket, Gio.DBusServerFlags.NONE, guid, None, None)
    server.connect("new-connection", on_new_connection)
    server.start()
    out("ADDRESS " + server.get_client_address())
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGTERM, lambda: loop.quit() or False)
    loop.run()
    server.stop()


def run_client(args):
    info = load_iface(args.xml)
    loop = GLib.MainLoop()
    result = {"signals": []}
    conn = Gio.DBusConnection.new_for_address_sync(
        args.address, Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT, None, None)
    result["unique_name"] = conn.get_unique_name()
    result["guid"] = conn.get_guid()
    proxy = Gio.DBusProxy.new_sync(conn, Gio.DBusProxyFlags.NONE, info, None, "/", IFACE, None)
    title = proxy.get_cached_property("Title")
    result["title"] = title.unpack() if title is not None else None

    def on_signal(_proxy, sender, name, params):
        result["signals"].append({"name": name, "sender": sender, "args": params.unpack()})
        if name == "Finished":
            loop.quit()

    proxy.connect("g-signal", on_signal)
    started = proxy.call_sync("Start", None, Gio.DBusCallFlags.NONE, 10000, None)
    result["started"] = started.unpack()[0]
    GLib.timeout_add_seconds(args.timeout, lambda: (result.setdefault("timeout", True), loop.quit()) and False)
    loop.run()
    conn.close_sync(None)
    out(json.dumps(result))


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="mode", required=True)
    s = sub.add_parser("server")
    s.add_argument("--xml", required=True)
    s.add_argument("--socket", required=True)
    s.add_argument("--finish", choices=["success", "fail", "never"], default="success")
    s.add_argument("--title", default="glib test transaction")
    c = sub.add_parser("client")
    c.add_argument("--xml", required=True)
    c.add_argument("--address", required=True)
    c.add_argument("--timeout", type=int, default=20)
    args = p.parse_args()
    if args.mode == "server":
        run_server(args)
    else:
        run_client(args)


if __name__ == "__main__":
    main()
