#!/usr/bin/env python3
"""badinput.py [BUILDDIR] — bad user input gets one clear line and a
non-zero exit, never a crash (issue 8, docs/reliability.md "Bad input").

Four parts, against BUILDDIR/hvlab (default build/):

  commands  every hvlab command given wrong arguments: status 2, exactly
            one line on stderr, starting "hvlab" (the command's prefix).
  config    a .config value Kconfig would silently replace (out of range,
            wrong type) stops the build with one "config:" line per value
            and leaves the .config as the user wrote it; a good value
            builds (scripts/config-check.sh, on a scratch copy of
            BUILDDIR/.config: only kconfig runs, nothing compiles).
  argv      CASES random `hvlab run` command lines (seeded; options with
            good, bad, huge, negative, empty and non-UTF-8 values, files
            that are missing, directories, /dev/zero, tiny guests).
  images    malformed guest images: the issue's named cases (truncated,
            overlapping segments, huge sizes, wrong machine, ...) must be
            refused; every prefix-truncation and CASES random byte
            mutations of valid ELF64 and multiboot images may be refused
            or run, but must end cleanly.

"Ends cleanly": within TIMEOUT seconds; not killed by a signal; nothing a
sanitizer or an assertion prints; status 2 with exactly one stderr line
starting "hvlab run: " (refused), or a guest's documented end (0 with
--help, 4 halted, 6 triple fault, 8 --max-insns reached, odd: the guest's
isa-debug-exit code), with nothing on stderr but the statistics the
command line asked for. Every run carries --max-insns (a bounded guest),
except where the case is about that option.

Prints one line per check and "badinput: N passed, M failed". SEED and
CASES (default 1 and 300) in the environment reproduce or widen a run.
"""
import os
import random
import shutil
import struct
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor

SRC = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OBJ = sys.argv[1] if len(sys.argv) > 1 else "build"
if not os.path.isabs(OBJ):
    OBJ = os.path.join(SRC, OBJ)
HVLAB = os.path.join(OBJ, "hvlab")
SEED = int(os.environ.get("SEED", "1"))
CASES = int(os.environ.get("CASES", "300"))
TIMEOUT = 30
BAD_WORDS = (b"Sanitizer", b"runtime error", b"Assertion", b"assertion", b"BUG", b"core dumped")

passed = failed = 0


def ok(name):
    global passed
    passed += 1
    print("ok  ", name)


def bad(name, why):
    global failed
    failed += 1
    print("FAIL", name + ":", why)


def run(args, timeout=TIMEOUT):
    """(status, stderr bytes); status None on timeout."""
    try:
        p = subprocess.run([HVLAB] + args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE, timeout=timeout)
        return p.returncode, p.stderr
    except subprocess.TimeoutExpired:
        return None, b""


def show(b):
    return b[:200].decode("utf-8", "replace").replace("\n", "\\n")


def judge_refusal(st, err, prefix=b"hvlab"):
    """None when the run was a clean refusal, else what was wrong."""
    if st is None:
        return "no end within %d s" % TIMEOUT
    if st != 2:
        return "status %d, want 2 (stderr: %s)" % (st, show(err))
    lines = err.splitlines()
    if len(lines) != 1:
        return "%d lines on stderr, want 1: %s" % (len(lines), show(err))
    if not lines[0].startswith(prefix):
        return "stderr does not start with %r: %s" % (prefix.decode(), show(err))
    return None


def judge_clean(st, err, stats_expected):
    """None when the run ended cleanly (a refusal or a documented end)."""
    if st is None:
        return "no end within %d s" % TIMEOUT
    if st < 0:
        return "killed by signal %d (stderr: %s)" % (-st, show(err))
    for w in BAD_WORDS:
        if w in err:
            return "stderr has %r: %s" % (w.decode(), show(err))
    if st == 2:
        return judge_refusal(st, err, b"hvlab run: ")
    if st not in (0, 4, 6, 8) and st % 2 == 0:
        return "status %d is none of hvlab run's (2, 4, 6, 8, odd): %s" % (st, show(err))
    if err and not stats_expected:
        return "stderr not empty: %s" % show(err)
    return None


def run_all(jobs, one, summary):
    """Run one(job) -> (name, why, status) for every job, one per core;
    each failure is a line, success one line for all (summary % count,
    with the statuses seen)."""
    counts = {}
    fails = 0
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as ex:
        for name, why, st in ex.map(one, jobs):
            if why:
                bad(name, why)
                fails += 1
            counts[st] = counts.get(st, 0) + 1
    if not fails:
        ok((summary % len(jobs)) + " (statuses %s)" % ", ".join(
            "%s: %d" % (k, v) for k, v in sorted(counts.items())))


# ------------------------------------------------------------ images
# The same tiny guests as tests/run/run_cli.sh: a multiboot a.out-kludge
# image at 1 MiB (Multiboot 0.6.96 3.1) and an ELF64 ET_EXEC with one
# PT_LOAD at 1 MiB (gABI ch. 4-5).
MB_MAGIC = 0x1BADB002


def mb_image(code, flags=0x10000, fields=None, sum_delta=0):
    f = fields or [0x100000, 0x100000, 0, 0, 0x100020]
    s = (-(MB_MAGIC + flags) + sum_delta) & 0xffffffff
    return struct.pack("<III", MB_MAGIC, flags, s) + struct.pack("<5I", *f) + code


def elf64_image(code, phdrs=None, machine=62, entry=None, cls=2, phnum=None,
                phentsize=56, phoff=64):
    phdrs = phdrs if phdrs is not None else [(1, 7, 0, 0x100000, None, None)]
    n = len(phdrs)
    hdr_len = 64 + 56 * n
    size = hdr_len + len(code)
    entry = 0x100000 + hdr_len if entry is None else entry
    eh = b"\x7fELF" + bytes([cls, 1, 1]) + bytes(9)
    eh += struct.pack("<HHIQQQIHHHHHH", 2, machine, 1, entry, phoff, 0, 0, 64, phentsize,
                      n if phnum is None else phnum, 64, 0, 0)
    ph = b""
    for (typ, fl, off, addr, filesz, memsz) in phdrs:
        filesz = size if filesz is None else filesz
        memsz = filesz if memsz is None else memsz
        ph += struct.pack("<IIQQQQQQ", typ, fl, off, addr, addr, filesz, memsz, 4096)
    return eh + ph + code


HALT = bytes([0xfa, 0xf4])		# cli; hlt
UD2 = bytes([0x0f, 0x0b])
EXIT21 = bytes([0xb0, 0x15, 0xe6, 0xf4, 0xfa, 0xf4])	# mov al,21; out 0xf4,al; cli; hlt

# The named malformed images: each must be refused.
REFUSED = {
    "ELF64 truncated in its header": elf64_image(HALT)[:40],
    "ELF64 truncated in its program header": elf64_image(HALT)[:90],
    "ELF64 segment beyond the file's end": elf64_image(HALT, [(1, 7, 0, 0x100000, 4096, 4096)]),
    "ELF64 wrong machine (AArch64)": elf64_image(HALT, machine=183),
    "ELF64 wrong machine (i386)": elf64_image(HALT, machine=3),
    "ELF64 class 32 with a 64-bit header": elf64_image(HALT, cls=1),
    "ELF64 overlapping segments": elf64_image(HALT, [(1, 7, 0, 0x100000, None, None),
                                                       (1, 7, 0, 0x100040, None, None)]),
    "ELF64 segment of 2^63 bytes": elf64_image(HALT, [(1, 7, 0, 0x100000, None, 1 << 63)]),
    "ELF64 segment wrapping 2^64": elf64_image(HALT, [(1, 7, 0, 0xfffffffffffff000, None, 0x2000)]),
    "ELF64 segment beyond guest RAM": elf64_image(HALT, [(1, 7, 0, 0x40000000000, None, None)]),
    "ELF64 filesz > memsz": elf64_image(HALT, [(1, 7, 0, 0x100000, None, 16)]),
    "ELF64 65535 program headers": elf64_image(HALT, phnum=0xffff),
    "ELF64 program headers past the end": elf64_image(HALT, phoff=1 << 40),
    "ELF64 phentsize 57": elf64_image(HALT, phentsize=57),
    "ELF64 entry outside every segment": elf64_image(HALT, entry=0x200000),
    "ELF64 no PT_LOAD": elf64_image(HALT, [(4, 4, 0, 0x100000, None, None)]),
    "ELF64 segment over the boot area": elf64_image(HALT, [(1, 7, 0, 0x2000, None, None)],
                                                    entry=0x2000 + 120),
    "multiboot truncated in its header": mb_image(HALT)[:20],
    "multiboot load_end below load_addr": mb_image(HALT, fields=[0x100000, 0x100000, 0xff000, 0,
                                                                0x100020]),
    "multiboot bss_end of 4 GiB": mb_image(HALT, fields=[0x100000, 0x100000, 0, 0xfffff000,
                                                        0x100020]),
    "multiboot entry outside the image": mb_image(HALT, fields=[0x100000, 0x100000, 0, 0,
                                                               0x300000]),
    "multiboot image over the information page": mb_image(HALT, fields=[0x9000, 0x9000, 0, 0,
                                                                       0x9020]),
    "multiboot requirement flag 3": mb_image(HALT, flags=0x10008),
    "multiboot bad checksum": mb_image(HALT, sum_delta=1),
}

VALID = {
    "halt.elf": elf64_image(HALT),
    "exit21.elf": elf64_image(EXIT21),
    "halt.mb": mb_image(HALT),
    "triple.mb": mb_image(UD2),
}


def main():
    if not os.access(HVLAB, os.X_OK):
        print("badinput: no %s; build it first" % HVLAB)
        print("badinput: 0 passed, 1 failed")
        return 1
    tmp = tempfile.mkdtemp(prefix="badinput.")
    try:
        commands()
        config(tmp)
        files = write_images(tmp)
        images(tmp, files)
        argv(tmp, files)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("badinput: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


def write_images(tmp):
    files = {}
    for name, data in list(VALID.items()):
        files[name] = os.path.join(tmp, name)
        with open(files[name], "wb") as f:
            f.write(data)
    return files


# ------------------------------------------------------------ commands
def commands():
    cases = [
        ("no command", []),
        ("unknown command", ["bogus"]),
        ("config with an argument", ["config", "x"]),
        ("decode without bytes", ["decode"]),
        ("decode -m without a mode", ["decode", "-m"]),
        ("decode -m 8", ["decode", "-m", "8", "90"]),
        ("decode non-hex", ["decode", "zz"]),
        ("decode odd digits", ["decode", "0f0"]),
        ("decode 5000 bytes", ["decode"] + ["90"] * 5000),
        ("stat unknown option", ["stat", "--bogus"]),
        ("stat missing file", ["stat", "/nonexistent/x"]),
        ("stat two files", ["stat", "/dev/null", "/dev/null"]),
        ("stat --sort bogus", ["stat", "--sort", "bogus"]),
        ("run without a guest", ["run"]),
    ]
    for name, args in cases:
        st, err = run(args)
        why = judge_refusal(st, err)
        if why:
            bad("command: " + name, why)
        else:
            ok("command: " + name)


# ------------------------------------------------------------ config
def config(tmp):
    cfg = os.path.join(OBJ, ".config")
    if not os.path.exists(cfg):
        bad("config", "no %s" % cfg)
        return
    d = os.path.join(tmp, "kc")
    os.mkdir(d)
    with open(cfg) as f:
        base = f.read()
    target = os.path.join(d, "include", "generated", "autoconf.h")

    def build(value):
        text = "".join(l for l in base.splitlines(True)
                       if not l.startswith("CONFIG_MMU_SHADOW_PAGES=")
                       and not l.startswith("CONFIG_HW_TLB_4K_ENTRIES="))
        text += value
        with open(os.path.join(d, ".config"), "w") as f:
            f.write(text)
        p = subprocess.run(["make", "-s", "-C", SRC, "O=" + d, target],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
        with open(os.path.join(d, ".config")) as f:
            after = f.read()
        return p.returncode, p.stdout + p.stderr, after == text

    if "CONFIG_MMU_SHADOW_PAGES=" not in base:
        bad("config", "the build has no shadow MMU (CONFIG_MMU_SHADOW_PAGES)")
        return
    good = "CONFIG_MMU_SHADOW_PAGES=64\nCONFIG_HW_TLB_4K_ENTRIES=1536\n"
    for name, value in [
            ("out of range", "CONFIG_MMU_SHADOW_PAGES=3\nCONFIG_HW_TLB_4K_ENTRIES=1536\n"),
            ("not a number", "CONFIG_MMU_SHADOW_PAGES=abc\nCONFIG_HW_TLB_4K_ENTRIES=1536\n"),
            ("two bad values", "CONFIG_MMU_SHADOW_PAGES=0\nCONFIG_HW_TLB_4K_ENTRIES=-1\n")]:
        rc, out, kept = build(value)
        lines = [l for l in out.splitlines() if l.startswith(b"config: ")]
        want = value.count("\n") if name == "two bad values" else 1
        if rc == 0:
            bad("config: " + name, "the build went on")
        elif len(lines) != want:
            bad("config: " + name, "%d 'config:' lines, want %d: %s" % (len(lines), want, show(out)))
        elif not kept:
            bad("config: " + name, "the .config was rewritten")
        else:
            ok("config: %s refused in %d line(s), .config kept" % (name, want))
    rc, out, kept = build(good)
    with open(target) if os.path.exists(target) else open(os.devnull) as f:
        h = f.read()
    if rc != 0 or "CONFIG_MMU_SHADOW_PAGES 64" not in h:
        bad("config: a good value", "status %d: %s" % (rc, show(out)))
    else:
        ok("config: a good value (64 shadow pages) configures")


# ------------------------------------------------------------ images
def run_image(path, extra=()):
    return run(["run", "--max-insns", "100000", "--stats", "none"] + list(extra) + [path])


def images(tmp, files):
    for name, data in REFUSED.items():
        p = os.path.join(tmp, "refused.img")
        with open(p, "wb") as f:
            f.write(data)
        st, err = run_image(p)
        why = judge_refusal(st, err, b"hvlab run: ")
        if why:
            bad("image: " + name, why)
        else:
            ok("image: %s refused (%s)" % (name, show(err).strip()))
    # Sanity: the valid ones run to their documented ends.
    for name, want in (("halt.elf", 4), ("exit21.elf", 43), ("halt.mb", 4), ("triple.mb", 6)):
        st, err = run_image(files[name])
        if st != want or err:
            bad("image: valid " + name, "status %s, want %d: %s" % (st, want, show(err)))
        else:
            ok("image: valid %s ends with %d" % (name, want))
    # Every prefix of each valid image, then random byte mutations.
    jobs = []
    for name in ("halt.elf", "halt.mb"):
        data = VALID[name]
        for n in range(len(data)):
            jobs.append(("%s cut at %d" % (name, n), data[:n]))
    rng = random.Random(SEED)
    for i in range(CASES):
        name = rng.choice(sorted(VALID))
        data = bytearray(VALID[name])
        for _ in range(rng.randint(1, 4)):
            at = rng.randrange(len(data))
            kind = rng.randrange(3)
            if kind == 0:
                data[at] ^= 1 << rng.randrange(8)
            elif kind == 1:
                data[at] = rng.choice((0, 0xff, 0x7f, 0x80, rng.randrange(256)))
            else:	# an interesting 32- or 64-bit value at an aligned place
                at &= ~3
                v = rng.choice((0, 0xffffffff, 0x80000000, 0x7fffffff, 0x100000, 0xfffff000))
                data[at:at + 4] = struct.pack("<I", v)[:len(data) - at]
        jobs.append(("%s mutation %d (seed %d)" % (name, i, SEED), bytes(data)))

    def one(job):
        k, (name, data) = job
        p = os.path.join(tmp, "m%d.img" % k)	# one file per job
        with open(p, "wb") as f:
            f.write(data)
        st, err = run_image(p)
        os.unlink(p)
        return "image: " + name, judge_clean(st, err, False), st

    run_all(list(enumerate(jobs)), one, "image: %d truncated and mutated images end cleanly")


# ------------------------------------------------------------ argv
def argv(tmp, files):
    rng = random.Random(SEED * 7919 + 1)
    os.mkdir(os.path.join(tmp, "dir"))
    with open(os.path.join(tmp, "big"), "wb") as f:
        f.truncate(3 << 30)	# a 3 GiB sparse file
    paths = [files["halt.mb"], files["halt.elf"], files["triple.mb"], files["exit21.elf"],
             os.path.join(tmp, "dir"), os.path.join(tmp, "nosuch"), "/dev/zero", "/dev/null",
             os.path.join(tmp, "big"), "", "-"]
    sizes = ["64M", "1M", "2M", "0", "1K", "4G", "5G", "2T", "-1", "abc", "64m", "0x10M",
             "18446744073709551616", "64MM", "1E", " 64M", "9999999999999999999K", ""]
    nums = ["0", "1", "2", "4", "64", "65", "-1", "1000", "x", "", "4294967297",
            "18446744073709551615", "99999999999999999999", "1e3", "0x10"]
    weird = ["\xff\xfe", "a" * 10000, "--", "-", "--=", "--mem=64M", "\n", "%s%n%s"]
    opts = {
        "--backend": lambda: rng.choice(["vmx", "svm", "vmz", "", "VMX", "tdp"]),
        "--mmu": lambda: rng.choice(["tdp", "shadow-flush", "shadow-cached", "shadow", "", "x"]),
        "--mem": lambda: rng.choice(sizes),
        "--smp": lambda: rng.choice(nums),
        "--sched": lambda: rng.choice(["deterministic", "parallel", "", "x"]),
        "--quantum": lambda: rng.choice(nums + ["5000", "100000000000"]),
        "--append": lambda: rng.choice(["", "a b c", "x" * 100000, "\xff"]),
        "--initrd": lambda: rng.choice(paths),
        "--stats": lambda: rng.choice(["table", "json", "csv", "none", "", "xml"]),
        "--stats-file": lambda: rng.choice([os.path.join(tmp, "s.out"), os.path.join(tmp, "dir"),
                                            "/proc/version", "/nonexistent/x", ""]),
        "--max-insns": lambda: rng.choice(nums + ["100000"]),
        "--help": None,
        "--frobnicate": None,
    }
    jobs = []
    for i in range(CASES):
        args = []
        for _ in range(rng.randint(0, 5)):
            o = rng.choice(sorted(opts))
            args.append(o)
            if opts[o] and rng.random() < 0.95:
                args.append(opts[o]())
        if rng.random() < 0.1:
            args.insert(rng.randrange(len(args) + 1), rng.choice(weird))
        if rng.random() < 0.9:
            args.append(rng.choice(paths))
        # Bounded: a guest that never ends is stopped by --max-insns.
        if "--max-insns" not in args:
            args = ["--max-insns", "200000"] + args
        jobs.append(args)

    def one(args):
        st, err = run(["run"] + args)
        # Without --stats none the statistics go to stderr (docs/run.md).
        return "argv: hvlab run " + " ".join(repr(a)[:40] for a in args), judge_clean(st, err, True), st

    run_all(jobs, one, "argv: %d random command lines end cleanly")


if __name__ == "__main__":
    sys.exit(main())
