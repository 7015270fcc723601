#!/usr/bin/python3
"""GLib conformance client for alt-ostreed, written the way rpm-ostree's CLI talks to rpm-ostreed.

usage: glib-rpmostree-client.py BUS_ADDRESS XML REVISION

Strict GDBusProxy objects are built from the reference XML (GLib then checks every cached property
against the XML type); run with G_DEBUG=fatal-warnings so any mismatch aborts. Steps: read every
Sysroot property, RegisterClient, GetOS(""), read every OS property, Deploy(REVISION, options as the
CLI sends them), then the transaction exactly like rpmostree-clientlib.cxx (new connection for the
address with AUTHENTICATION_CLIENT, proxy at "/", subscribe, Start, main loop until Finished), then
wait for PropertiesChanged to update the cached Deployments. Prints one JSON object.
"""
import json
import sys

from gi.repository import Gio, GLib

NAME = "org.projectatomic.rpmostree1"
bus_address, xml_path, revision = sys.argv[1], sys.argv[2], sys.argv[3]
with open(xml_path, encoding="utf-8") as f:
    node = Gio.DBusNodeInfo.new_for_xml(f.read())
info = {i.name.rsplit(".", 1)[1]: i for i in node.interfaces}
result = {"typeErrors": []}
loop = GLib.MainLoop()


def check_types(proxy, iface):
    values = {}
    for prop in iface.properties:
        v = proxy.get_cached_property(prop.name)
        if v is None:
            result["typeErrors"].append("%s missing" % prop.name)
        elif v.get_type_string() != prop.signature:
            result["typeErrors"].append("%s: %s != %s" % (prop.name, v.get_type_string(), prop.signature))
        else:
            values[prop.name] = v.unpack()
    return values


def run_until(pred, timeout_s):
    ctx = GLib.MainContext.default()
    deadline = GLib.get_monotonic_time() + int(timeout_s * 1e6)
    while not pred() and GLib.get_monotonic_time() < deadline:
        ctx.iteration(True) if ctx.pending() else GLib.usleep(10000)
    return pred()


bus = Gio.DBusConnection.new_for_address_sync(
    bus_address,
    Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT | Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION,
    None,
    None,
)
sysroot = Gio.DBusProxy.new_sync(bus, 0, info["Sysroot"], NAME, "/org/projectatomic/rpmostree1/Sysroot", NAME + ".Sysroot", None)
props = check_types(sysroot, info["Sysroot"])
result["booted"] = props.get("Booted")
result["activeTransaction"] = list(props.get("ActiveTransaction", ()))
sysroot.call_sync("RegisterClient", GLib.Variant("(a{sv})", ({"id": GLib.Variant("s", "cli")},)), 0, -1, None)
(os_path,) = sysroot.call_sync("GetOS", GLib.Variant("(s)", ("",)), 0, -1, None).unpack()
result["osPath"] = os_path
os_proxy = Gio.DBusProxy.new_sync(bus, 0, info["OS"], NAME, os_path, NAME + ".OS", None)
os_props = check_types(os_proxy, info["OS"])
result["osName"] = os_props.get("Name")

options = {
    "reboot": GLib.Variant("b", False),
    "allow-downgrade": GLib.Variant("b", True),
    "cache-only": GLib.Variant("b", False),
    "download-only": GLib.Variant("b", False),
    "skip-branch-check": GLib.Variant("b", True),
    "lock-finalization": GLib.Variant("b", True),
    "initiating-command-line": GLib.Variant("s", "rpm-ostree deploy --lock-finalization " + revision),
}
(address,) = os_proxy.call_sync("Deploy", GLib.Variant("(sa{sv})", (revision, options)), 0, -1, None).unpack()
result["address"] = address

peer = Gio.DBusConnection.new_for_address_sync(address, Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT, None, None)
tx = Gio.DBusProxy.new_sync(peer, 0, info["Transaction"], None, "/", NAME + ".Transaction", None)
result["title"] = tx.get_cached_property("Title").unpack()
signals = []
finished = {}


def on_signal(_proxy, _sender, name, params):
    signals.append(name)
    if name == "Finished":
        finished["success"], finished["error"] = params.unpack()


tx.connect("g-signal", on_signal)
(result["started"],) = tx.call_sync("Start", None, 0, -1, None).unpack()
run_until(lambda: "success" in finished, 60)
result["finished"] = finished
result["signals"] = sorted(set(signals))
peer.close_sync(None)


def staged_cached():
    v = sysroot.get_cached_property("Deployments")
    deps = v.unpack() if v is not None else []
    return bool(deps) and deps[0].get("staged") is True


def idle_cached():
    v = sysroot.get_cached_property("ActiveTransaction")
    return v is not None and tuple(v.unpack()) == ("", "", "")


result["deploymentsUpdated"] = run_until(staged_cached, 10)
result["idleAgain"] = run_until(idle_cached, 10)
first = sysroot.get_cached_property("Deployments").unpack()[0]
result["firstDeployment"] = {k: first.get(k) for k in ("checksum", "staged", "finalization-locked", "booted")}
check_types(sysroot, info["Sysroot"])
try:
    os_proxy.call_sync("Upgrade", GLib.Variant("(a{sv})", ({},)), 0, -1, None)
    result["upgradeError"] = None
except GLib.Error as e:
    result["upgradeError"] = Gio.DBusError.get_remote_error(e)
sysroot.call_sync("UnregisterClient", GLib.Variant("(a{sv})", ({},)), 0, -1, None)
print(json.dumps(result))
