#!/usr/bin/env python3
"""Drives the VM check's Debian guest under qemu: boot, serial console, QMP. Stdlib only.

As a library:

    vm = Vm(image_dir, run_dir, fwd_port=8001)
    vm.start()                        # KVM if it boots in time, else TCG; says which and why
    out, rc = vm.sh("loginctl list-sessions")
    vm.screendump("gate.png"); vm.type_text("visiteur\\n"); vm.set_link(False)
    vm.stop()

As a command (the VM outlives each call; its sockets, logs and pid are in the run directory):

    vmctl.py up --image DIR [--fwd PORT]     vmctl.py sh 'systemctl is-system-running'
    vmctl.py wait REGEX                      vmctl.py screendump out.png
    vmctl.py type 'visiteur\\n'               vmctl.py key ctrl-alt-f2
    vmctl.py link off|on                     vmctl.py down

The guest reaches nothing but GUEST_ADDR (default 10.0.2.100:8001), forwarded to 127.0.0.1:PORT
on the host (`restrict=on` and a `guestfwd`). Every wait has a deadline.
"""

import argparse
import base64
import json
import os
import re
import select
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import zlib

SHELL_READY = "POSTE-VM-SHELL-READY"  # printed by the image's /root/.bash_profile on ttyS0
DEFAULT_RUN = os.environ.get("POSTE_VM_RUN", "/tmp/poste-vm-run")
HERE = os.path.dirname(os.path.abspath(__file__))



def _same_screen(a, b):
    """Two screen_stats samples of one settled picture: same commonest colour and share, and
    colour counts within 5 % (at least 3) of each other."""
    (na, top_a, share_a), (nb, top_b, share_b) = a, b
    return (top_a == top_b and abs(share_a - share_b) <= 0.01
            and abs(na - nb) <= max(3, 0.05 * max(na, nb)))


class CheckFailed(SystemExit):
    """A check of smoke.py or check.py that did not hold: ends the run with its message."""


def until(what, check, timeout, every=1.0):
    """Polls check() until it is true; returns the seconds it took, or fails the run."""
    t0 = time.monotonic()
    while True:
        try:
            if check():
                return time.monotonic() - t0
        except (TimeoutError, ConnectionError) as e:
            log(f"{what}: {e}")
        if time.monotonic() - t0 > timeout:
            raise CheckFailed(f"FAILED: {what}: not within {timeout} s")
        time.sleep(every)


def log(msg):
    print(f"vmctl: {msg}", file=sys.stderr, flush=True)


class Qmp:
    """A QMP client on a unix socket: one command at a time, events kept aside."""

    def __init__(self, path, timeout=10):
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.settimeout(timeout)
        self.sock.connect(path)
        self.buf = b""
        self.events = []
        self._read()  # the greeting
        self.cmd("qmp_capabilities")

    def _read(self):
        while b"\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("QMP socket closed")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def cmd(self, name, /, **args):
        msg = {"execute": name}
        if args:
            msg["arguments"] = args
        self.sock.sendall(json.dumps(msg).encode() + b"\n")
        while True:
            reply = self._read()
            if "event" in reply:
                self.events.append(reply)
            elif "error" in reply:
                raise RuntimeError(f"QMP {name}: {reply['error'].get('desc')}")
            else:
                return reply.get("return")

    def close(self):
        self.sock.close()


# US layout (the guest's default console and X keymaps): character -> (qcode, shift).
_KEYS = {" ": ("spc", False), "\n": ("ret", False), "\t": ("tab", False)}
for _c in "abcdefghijklmnopqrstuvwxyz":
    _KEYS[_c] = (_c, False)
    _KEYS[_c.upper()] = (_c, True)
for _c in "0123456789":
    _KEYS[_c] = (_c, False)
for _plain, _shifted, _code in [
    ("-", "_", "minus"), ("=", "+", "equal"), ("[", "{", "bracket_left"),
    ("]", "}", "bracket_right"), (";", ":", "semicolon"), ("'", '"', "apostrophe"),
    ("`", "~", "grave_accent"), ("\\", "|", "backslash"), (",", "<", "comma"),
    (".", ">", "dot"), ("/", "?", "slash"),
]:
    _KEYS[_plain] = (_code, False)
    _KEYS[_shifted] = (_code, True)
for _c, _code in zip("!@#$%^&*()", "1234567890"):
    _KEYS[_c] = (_code, True)


def ppm_to_png(ppm, png):
    """Converts a binary PPM (P6, what older qemu's screendump writes) to PNG, stdlib only."""
    data = open(ppm, "rb").read()
    m = re.match(rb"P6\s+(\d+)\s+(\d+)\s+(\d+)\s", data)
    if not m:
        raise ValueError(f"{ppm}: not a binary PPM")
    w, h = int(m.group(1)), int(m.group(2))
    px = data[m.end():]
    raw = b"".join(b"\0" + px[y * w * 3:(y + 1) * w * 3] for y in range(h))

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    with open(png, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


class Vm:
    def __init__(self, image_dir, run_dir=DEFAULT_RUN, fwd_port=None, guest_addr="10.0.2.100:8001",
                 mem=1024, smp=1, accel="auto", ssh_port=None):
        self.image_dir = os.path.abspath(image_dir) if image_dir else None
        self.run = os.path.abspath(run_dir)
        self.fwd_port, self.guest_addr = fwd_port, guest_addr
        # The host's loopback port forwarded to the guest's sshd (Ansible), if any.
        self.ssh_port = ssh_port
        self.mem, self.smp, self.accel = mem, smp, accel
        self.serial_sock = os.path.join(self.run, "serial.sock")
        self.serial_log = os.path.join(self.run, "serial.log")
        self.qmp_sock = os.path.join(self.run, "qmp.sock")
        self.pidfile = os.path.join(self.run, "qemu.pid")
        self._qmp = None
        self._ser = None
        self._seq = 0
        self.used = None  # "kvm" or "tcg", once started

    # ---- process -------------------------------------------------------------------------

    def _argv(self, accel):
        img = self.image_dir
        netdev = "user,id=net0,restrict=on"
        if self.fwd_port:
            # cmd: spawns the forwarder once per guest connection (a plain tcp: target would
            # be one chardev connection, opened when qemu starts, and never reopened).
            fwd = f"{sys.executable} {os.path.abspath(__file__)} fwd 127.0.0.1 {self.fwd_port}"
            netdev += f",guestfwd=tcp:{self.guest_addr}-cmd:{fwd}"
        if self.ssh_port:
            # Inward only, from the host's loopback: restrict=on still keeps the guest in.
            netdev += f",hostfwd=tcp:127.0.0.1:{self.ssh_port}-:22"
        argv = [
            "qemu-system-x86_64", "-name", "poste-vm", "-m", str(self.mem), "-smp", str(self.smp),
            "-kernel", f"{img}/vmlinuz", "-initrd", f"{img}/initrd.img",
            "-append", "root=/dev/vda rw console=ttyS0,115200 mitigations=off",
            "-drive", f"file={self.run}/overlay.qcow2,if=virtio,format=qcow2,cache=unsafe",
            "-netdev", netdev, "-device", "virtio-net-pci,netdev=net0,id=nic0",
            "-device", "virtio-rng-pci",
            "-vga", "std", "-display", "none", "-no-user-config", "-nodefaults",
            "-chardev", f"socket,id=ser0,path={self.serial_sock},server=on,wait=off,logfile={self.serial_log},logappend=on",
            "-serial", "chardev:ser0",
            "-qmp", f"unix:{self.qmp_sock},server=on,wait=off",
            "-pidfile", self.pidfile,
        ]
        if accel == "kvm":
            # POSTE_VM_KVM_CPU: another model to try where `host` fails (see README).
            argv += ["-accel", "kvm", "-cpu", os.environ.get("POSTE_VM_KVM_CPU", "host")]
        else:
            argv += ["-accel", "tcg"]
        return argv

    def _launch(self, accel):
        for p in (self.serial_sock, self.qmp_sock, self.pidfile):
            if os.path.exists(p):
                os.unlink(p)
        out = open(os.path.join(self.run, f"qemu-{accel}.log"), "w")
        self.t0 = time.monotonic()
        # A session of its own: the VM outlives a `vmctl.py up` and is stopped by its pid.
        # Ahead of the host's compilers (as root, `nice` execs qemu and every thread of it
        # inherits): under TCG the guest's one CPU is one host thread, and the suite builds on
        # both cores beside it (scripts/test). A guest starved so is the likeliest reason the
        # visitor's desktop once stayed unpainted for two minutes in CI; the deadline checks
        # also measure the guest's timers to the second.
        ahead = ["nice", "-n", "-10"] if os.geteuid() == 0 else []
        self.proc = subprocess.Popen(ahead + self._argv(accel), stdin=subprocess.DEVNULL,
                                     stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 10
        while not (os.path.exists(self.qmp_sock) and os.path.exists(self.serial_sock)):
            if self.proc.poll() is not None:
                return False
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)
        with open(os.path.join(self.run, "accel"), "w") as f:
            f.write(accel + "\n")
        return True

    def _log_size(self):
        try:
            return os.path.getsize(self.serial_log)
        except FileNotFoundError:
            return 0

    def start(self, kvm_first_line=20, boot_timeout=300, kvm_boot_timeout=90):
        """Boots; returns seconds to the serial shell. KVM if /dev/kvm opens and the kernel
        talks within kvm_first_line s and reaches the shell within kvm_boot_timeout s, else TCG."""
        os.makedirs(self.run, exist_ok=True)
        overlay = os.path.join(self.run, "overlay.qcow2")
        if os.path.exists(overlay):
            os.unlink(overlay)
        # The cached disk is never written: each boot gets a fresh overlay on it.
        subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-F", "raw", "-b",
                        f"{self.image_dir}/disk.img", overlay], check=True)
        if os.path.exists(self.serial_log):
            os.unlink(self.serial_log)
        tries = []
        if self.accel in ("auto", "kvm"):
            why = None
            try:
                os.close(os.open("/dev/kvm", os.O_RDWR))
            except OSError as e:
                why = f"/dev/kvm does not open ({e.strerror})"
            if why is None:
                tries.append(("kvm", kvm_first_line, kvm_boot_timeout))
            elif self.accel == "kvm":
                raise RuntimeError(why)
            else:
                log(f"not trying KVM: {why}")
        if self.accel in ("auto", "tcg"):
            tries.append(("tcg", 120, boot_timeout))
        for accel, first_line, timeout in tries:
            if not self._launch(accel):
                err = open(os.path.join(self.run, f"qemu-{accel}.log")).read().strip()
                log(f"{accel}: qemu did not start: {err[-300:]}")
                self.kill()
                continue
            try:
                self.wait_serial(r"Linux version", timeout=first_line, offset=0)
                self.wait_serial(SHELL_READY, timeout=timeout, offset=0)
            except TimeoutError as e:
                qlog = open(os.path.join(self.run, f"qemu-{accel}.log")).read().strip()
                log(f"{accel}: {e}" + (f" ({qlog.splitlines()[0]})" if qlog else "") + "; stopping it")
                self.kill()
                continue
            self.used = accel
            took = time.monotonic() - self.t0
            log(f"booted with {accel.upper()} to the serial shell in {took:.1f} s")
            return took
        raise RuntimeError("the guest booted neither with KVM nor with TCG (see qemu-*.log, serial.log in "
                           + self.run + ")")

    def pid(self):
        try:
            return int(open(self.pidfile).read())
        except (FileNotFoundError, ValueError):
            return None

    def alive(self):
        pid = self.pid()
        if pid is None:
            return False
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        # A zombie of ours (the library case) counts as gone.
        proc = getattr(self, "proc", None)
        return not (proc is not None and proc.pid == pid and proc.poll() is not None)

    def kill(self):
        pid = self.pid() or (self.proc.pid if getattr(self, "proc", None) else None)
        if pid:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if getattr(self, "proc", None):
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                pass
        self._close()

    def stop(self, timeout=60):
        """`systemctl poweroff` on the serial console (the ACPI power button when the console
        cannot be reached), then QMP quit, then SIGKILL. Returns which one ended it."""
        how = "poweroff"
        try:
            self.serial().sendall(b"systemctl poweroff\n")
        except OSError:
            try:
                self.qmp().cmd("system_powerdown")
            except Exception:
                pass
        deadline = time.monotonic() + timeout
        while self.alive() and time.monotonic() < deadline:
            time.sleep(0.2)
        if self.alive():
            how = "quit"
            try:
                self.qmp().cmd("quit")
            except Exception:
                pass
            time.sleep(2)
        if self.alive():
            how = "kill"
        self.kill()
        return how

    def _close(self):
        for s in (self._qmp, self._ser):
            if s:
                try:
                    s.close()
                except OSError:
                    pass
        self._qmp = self._ser = None

    # ---- QMP -------------------------------------------------------------------------------

    def qmp(self):
        if self._qmp is None:
            self._qmp = Qmp(self.qmp_sock)
        return self._qmp

    def screendump(self, path):
        path = os.path.abspath(path)
        try:
            self.qmp().cmd("screendump", filename=path, format="png")
        except RuntimeError as e:
            # qemu before 7.1 (or built without libpng): PPM, converted here.
            log(f"screendump as PNG failed ({e}); PPM instead")
            self.qmp().cmd("screendump", filename=path + ".ppm")
            ppm_to_png(path + ".ppm", path)
            os.unlink(path + ".ppm")
        return path

    def screen_stats(self, region=None, step=7):
        """A sample of the screen, or of region (x, y, w, h): (distinct colours, the commonest
        as hex, its share)."""
        path = os.path.join(self.run, "probe.ppm")
        self.qmp().cmd("screendump", filename=path)
        data = open(path, "rb").read()
        m = re.match(rb"P6\s+(\d+)\s+(\d+)\s+(\d+)\s", data)
        w, h = int(m.group(1)), int(m.group(2))
        px = data[m.end():]
        x0, y0, rw, rh = region or (0, 0, w, h)
        counts = {}
        for y in range(y0, min(y0 + rh, h)):
            row = (y * w) * 3
            for x in range(x0 + (y % step), min(x0 + rw, w), step):
                c = px[row + 3 * x:row + 3 * x + 3]
                counts[c] = counts.get(c, 0) + 1
        top = max(counts, key=counts.get)
        return len(counts), top.hex(), counts[top] / sum(counts.values())

    def wait_screen_settled(self, timeout=120, interval=3, accept=lambda stats: True):
        """Waits until two samples `interval` s apart agree (commonest colour, its share to
        1 %, colour count to 5 %) and `accept(stats)`: a desktop still painting changes
        between them. A ticking countdown or a blinking cursor moves the colour count by a few
        antialiased shades (1140 then 1152 while digits change), never these figures as a whole
        paint does; an exact count made a desktop with its countdown never settle. Returns the
        stats."""
        deadline = time.monotonic() + timeout
        prev = None
        while True:
            n, top, share = self.screen_stats()
            cur = (n, top, round(share, 2))
            if prev is not None and _same_screen(prev, cur) and accept(cur):
                return cur
            if time.monotonic() > deadline:
                raise TimeoutError(f"the screen did not settle in {timeout} s (last {cur})")
            prev = cur
            time.sleep(interval)

    def screen_sample(self):
        """screen_stats, rounded as wait_screen_changed compares them."""
        n, top, share = self.screen_stats()
        return (n, top, round(share, 3))

    def wait_screen_changed(self, before, timeout=60, interval=1):
        """Waits until the screen differs from `before` (a screen_sample): what a program
        logged it was asked to show is drawn. Under TCG a repaint comes seconds after the log
        line, and a screen that did not change yet also looks settled."""
        deadline = time.monotonic() + timeout
        while True:
            cur = self.screen_sample()
            if cur != before:
                return cur
            if time.monotonic() > deadline:
                raise TimeoutError(f"the screen did not change in {timeout} s (still {cur})")
            time.sleep(interval)

    def send_key(self, *qcodes, hold_ms=50):
        self.qmp().cmd("send-key", keys=[{"type": "qcode", "data": k} for k in qcodes],
                       **{"hold-time": hold_ms})

    def type_text(self, text, delay=0.05):
        for ch in text:
            if ch not in _KEYS:
                raise ValueError(f"no key for {ch!r}")
            code, shift = _KEYS[ch]
            self.send_key(*(["shift", code] if shift else [code]))
            time.sleep(delay)  # TCG guests drop keys sent faster than they poll

    def set_link(self, up):
        self.qmp().cmd("set_link", name="nic0", up=bool(up))

    # ---- serial console --------------------------------------------------------------------

    def wait_serial(self, pattern, timeout=60, offset=None):
        """Waits for a regex in the serial output written after `offset` (default: now)."""
        rx = re.compile(pattern)
        start = self._log_size() if offset is None else offset
        deadline = time.monotonic() + timeout
        while True:
            try:
                with open(self.serial_log, "rb") as f:
                    f.seek(start)
                    text = f.read().decode("utf-8", "replace")
            except FileNotFoundError:
                text = ""
            m = rx.search(text)
            if m:
                return m
            if not self.alive():
                raise TimeoutError(f"qemu exited while waiting for {pattern!r}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"no {pattern!r} on the serial console in {timeout} s")
            time.sleep(0.2)

    def serial(self):
        """The serial socket, drained by a thread for as long as it is open: qemu's UART
        writes each byte as its own message, so a few hundred unread bytes fill the socket,
        and then the guest blocks on its console (a shutdown hung that way)."""
        if self._ser is None:
            self._ser = socket.socket(socket.AF_UNIX)
            self._ser.connect(self.serial_sock)
            self._serbuf = bytearray()
            self._serbuf_closed = False
            self._sercond = threading.Condition()
            threading.Thread(target=self._drain, args=(self._ser,), daemon=True).start()
        return self._ser

    def _drain(self, sock):
        while True:
            try:
                chunk = sock.recv(65536)
            except OSError:
                chunk = b""
            with self._sercond:
                if not chunk:
                    self._serbuf_closed = True
                    self._sercond.notify_all()
                    return
                self._serbuf += chunk
                self._sercond.notify_all()

    def sh(self, command, timeout=60):
        """Runs `command` in bash as root on ttyS0; returns (output, exit status). The
        command travels base64-encoded (no quoting to get wrong, one short line) and runs in a
        subshell with stdin from /dev/null (it cannot eat the console's next input)."""
        self._seq += 1
        tag = f"{os.getpid()}-{self._seq}"
        b64 = base64.b64encode(command.encode()).decode()
        line = (f"printf '%s\\n' __B-{tag}; (eval \"$(printf %s {b64} | base64 -d)\") </dev/null 2>&1;"
                f" printf '%s %s\\n' __E-{tag} $?\n")
        s = self.serial()
        with self._sercond:
            start = len(self._serbuf)
        s.sendall(line.encode())
        begin, end = f"__B-{tag}\n".encode(), re.compile(rf"__E-{tag} (\d+)\n".encode())
        deadline = time.monotonic() + timeout
        with self._sercond:
            while True:
                i = self._serbuf.find(begin, start)
                if i >= 0:
                    m = end.search(self._serbuf, i)
                    if m:
                        out = self._serbuf[i + len(begin):m.start()].decode("utf-8", "replace")
                        rc = int(m.group(1))
                        del self._serbuf[:m.end()]  # what was read is not kept
                        return out.replace("\r", ""), rc
                if getattr(self, "_serbuf_closed", False):
                    raise ConnectionError("serial socket closed")
                left = deadline - time.monotonic()
                if left <= 0:
                    s.sendall(b"\x03")  # interrupt it, so the console is usable again
                    raise TimeoutError(f"no end of {command!r} on the serial console in {timeout} s")
                self._sercond.wait(min(left, 1))


def forward(host, port):
    """The guestfwd target: copies stdin/stdout (qemu's socket) to and from host:port."""
    try:
        conn = socket.create_connection((host, int(port)), timeout=5)
    except OSError:
        return 1
    conn.settimeout(None)
    open_ = {0, conn.fileno()}
    while open_:
        r, _, _ = select.select(list(open_), [], [])
        for fd in r:
            data = os.read(0, 65536) if fd == 0 else conn.recv(65536)
            if not data:
                open_.discard(fd)
                if fd == 0:
                    conn.shutdown(socket.SHUT_WR)
                else:
                    # stdin and stdout are one socket (qemu's end): closing fd 1 alone would
                    # not tell the guest, shutting the socket's write side does.
                    try:
                        socket.socket(fileno=os.dup(1)).shutdown(socket.SHUT_WR)
                    except OSError:
                        os.close(1)
                continue
            if fd == 0:
                conn.sendall(data)
            else:
                view = memoryview(data)
                while view:
                    view = view[os.write(1, view):]
    return 0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--run", default=DEFAULT_RUN, help="run directory (sockets, logs, overlay)")
    sub = ap.add_subparsers(dest="what", required=True)
    up = sub.add_parser("up", help="boot the guest, return once the serial shell answers")
    up.add_argument("--image", required=True, help="directory printed by build-image")
    up.add_argument("--fwd", type=int, help="host loopback port the guest reaches at --guest-addr")
    up.add_argument("--guest-addr", default="10.0.2.100:8001")
    up.add_argument("--mem", type=int, default=1024, help="MiB")
    up.add_argument("--smp", type=int, default=1)
    up.add_argument("--accel", choices=["auto", "kvm", "tcg"], default="auto")
    up.add_argument("--timeout", type=int, default=300)
    w = sub.add_parser("wait", help="wait for a regex on the serial console (from now, or --from-start)")
    w.add_argument("regex")
    w.add_argument("--from-start", action="store_true")
    w.add_argument("--timeout", type=int, default=60)
    s = sub.add_parser("sh", help="run a command as root on the serial console; exits with its status")
    s.add_argument("command")
    s.add_argument("--timeout", type=int, default=60)
    d = sub.add_parser("screendump", help="the guest's screen to a PNG")
    d.add_argument("png")
    t = sub.add_parser("type", help="type a string with send-key (\\n for Enter)")
    t.add_argument("text")
    k = sub.add_parser("key", help="press a chord of qcodes, e.g. ctrl-alt-f2")
    k.add_argument("chord")
    lk = sub.add_parser("link", help="plug or pull the guest's network cable")
    lk.add_argument("state", choices=["on", "off"])
    dn = sub.add_parser("down", help="power off (ACPI), then quit, then kill")
    dn.add_argument("--timeout", type=int, default=60)
    f = sub.add_parser("fwd", help=argparse.SUPPRESS)
    f.add_argument("host")
    f.add_argument("port")
    a = ap.parse_args(argv)

    if a.what == "fwd":
        return forward(a.host, a.port)
    if a.what == "up":
        vm = Vm(a.image, a.run, fwd_port=a.fwd, guest_addr=a.guest_addr, mem=a.mem, smp=a.smp,
                accel=a.accel)
        if vm.alive():
            log(f"a VM already runs from {a.run} (pid {vm.pid()}); `vmctl.py down` first")
            return 1
        vm.start(boot_timeout=a.timeout)
        print(vm.used)
        return 0
    vm = Vm(None, a.run)
    if not vm.alive():
        log(f"no VM runs from {a.run}")
        return 1
    if a.what == "wait":
        m = vm.wait_serial(a.regex, timeout=a.timeout, offset=0 if a.from_start else None)
        print(m.group(0))
    elif a.what == "sh":
        out, rc = vm.sh(a.command, timeout=a.timeout)
        sys.stdout.write(out)
        return rc
    elif a.what == "screendump":
        print(vm.screendump(a.png))
    elif a.what == "type":
        vm.type_text(a.text.replace("\\n", "\n"))
    elif a.what == "key":
        vm.send_key(*a.chord.split("-"))
    elif a.what == "link":
        vm.set_link(a.state == "on")
    elif a.what == "down":
        print(vm.stop(timeout=a.timeout))
    return 0


if __name__ == "__main__":
    sys.exit(main())
