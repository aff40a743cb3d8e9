"""`loom doctor`'s probe: tries the limits and security defaults from inside a sandbox.

Run as the sandbox user, in a container made with Loom's own options (see
electron/main/engine/doctor/probe.ts), with one argument: JSON with what to try
the limits with and where Loom's resources volume is mounted. Standard library
only: it runs in whatever Python the image has.

Each trial prints one JSON line, {"check": <id of the check it answers>, ...facts},
as soon as it is known, so that a probe killed midway (by a limit that misfired)
still reports what it found before. The judging is done by the checks of the
same ids (electron/main/engine/doctor/probe-checks.ts): this file only observes.
The harmless reads come first and the trials that push a limit last.
"""

import ctypes
import errno
import json
import os
import subprocess
import sys


def report(check, **facts):
    print(json.dumps(dict(check=check, **facts)), flush=True)


def code(e):
    return errno.errorcode.get(e.errno, str(e.errno))


def proc_status():
    status = {}
    with open('/proc/self/status') as f:
        for line in f:
            key, _, value = line.partition(':')
            status[key] = value.strip()
    return status


def try_write(check, directory):
    """Creates (and removes) a file in `directory`: the errno says how a write is refused."""
    path = os.path.join(directory, '.loom-doctor-%d' % os.getpid())
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as e:
        report(check, path=directory, errno=code(e))
        return
    os.close(fd)
    os.unlink(path)
    report(check, path=directory, errno=None)


def user(config):
    report('sandbox.user', uid=os.getuid(), gid=os.getgid(), groups=os.getgroups())


def capabilities(config):
    status = proc_status()
    report('sandbox.capabilities',
           eff=status.get('CapEff'), bnd=status.get('CapBnd'), prm=status.get('CapPrm'))


def no_new_privileges(config):
    report('sandbox.no-new-privileges', value=proc_status().get('NoNewPrivs'))


def seccomp(config):
    report('sandbox.seccomp', value=proc_status().get('Seccomp'))


def read_only_root(config):
    try_write('sandbox.read-only-root', '/usr')


def read_only_resources(config):
    try_write('sandbox.read-only-resources', config['resourcesDir'])


def network(config):
    report('sandbox.network', interfaces=sorted(os.listdir('/sys/class/net')))


def kernel(config):
    """The kernel the sandbox sees: the host's under runc, gVisor's own under runsc."""
    with open('/proc/version') as f:
        version = f.read().strip()
    # dmesg: gVisor answers syslog(2) with its own boot lines; the host kernel refuses an
    # unprivileged reader (EPERM, dmesg_restrict) or shows its own.
    libc = ctypes.CDLL(None, use_errno=True)
    buf = ctypes.create_string_buffer(1 << 14)
    n = libc.klogctl(3, buf, len(buf))
    if n < 0:
        dmesg, dmesg_errno = None, errno.errorcode.get(ctypes.get_errno())
    else:
        dmesg, dmesg_errno = buf.raw[:n].decode(errors='replace').splitlines()[:8], None
    report('sandbox.kernel', release=os.uname().release, version=version,
           dmesg=dmesg, dmesgErrno=dmesg_errno)


def docker_socket(config):
    candidates = ['/var/run/docker.sock', '/run/docker.sock',
                  '/run/podman/podman.sock', '/var/run/podman/podman.sock']
    report('sandbox.docker-socket', present=[p for p in candidates if os.path.exists(p)])


def cpu(config):
    # cgroup v2: one file "QUOTA PERIOD"; v1: two files in the cpu controller's directory.
    if os.path.exists('/sys/fs/cgroup/cpu.max'):
        with open('/sys/fs/cgroup/cpu.max') as f:
            quota, period = f.read().split()
        report('limit.cpu', file='/sys/fs/cgroup/cpu.max',
               quota=None if quota == 'max' else int(quota), period=int(period))
        return
    for d in ('/sys/fs/cgroup/cpu', '/sys/fs/cgroup/cpu,cpuacct'):
        if os.path.exists(d + '/cpu.cfs_quota_us'):
            with open(d + '/cpu.cfs_quota_us') as f:
                v1_quota = int(f.read())
            with open(d + '/cpu.cfs_period_us') as f:
                v1_period = int(f.read())
            report('limit.cpu', file=d + '/cpu.cfs_quota_us',
                   quota=None if v1_quota < 0 else v1_quota, period=v1_period)
            return
    report('limit.cpu', error='no cgroup CPU files under /sys/fs/cgroup')


def storage(config):
    path = os.path.join(os.environ.get('TMPDIR', '/tmp'), 'loom-doctor-fill')
    chunk = b'\1' * (1 << 20)
    written = 0
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        while written < config['writeMb']:
            os.write(fd, chunk)
            written += 1
        report('limit.storage', writtenMb=written, errno=None)
    except OSError as e:
        report('limit.storage', writtenMb=written, errno=code(e))
    finally:
        os.close(fd)
        os.unlink(path)


def pids(config):
    # Children block on a pipe and exit when it closes; fork until the kernel says no, with a
    # ceiling so that a missing limit ends the trial instead of exhausting the host.
    r, w = os.pipe()
    children, failure = [], None
    try:
        for _ in range(config['pids'] * 4):
            pid = os.fork()
            if pid == 0:
                os.close(w)
                try:
                    os.read(r, 1)
                finally:
                    os._exit(0)
            children.append(pid)
    except OSError as e:
        failure = code(e)
    finally:
        peak = sum(1 for p in os.listdir('/proc') if p.isdigit())
        os.close(w)
        for pid in children:
            os.waitpid(pid, 0)
    report('limit.pids', forked=len(children), errno=failure, processes=peak)


def memory(config):
    # bytearray zero-fills, so every page is touched and charged to the cgroup.
    program = 'b = bytearray(%d << 20); print(len(b))' % config['allocMb']
    child = subprocess.run([sys.executable, '-c', program],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    report('limit.memory', returncode=child.returncode,
           stderr=child.stderr.decode(errors='replace')[-300:])


TRIALS = {
    'sandbox.user': user,
    'sandbox.capabilities': capabilities,
    'sandbox.no-new-privileges': no_new_privileges,
    'sandbox.seccomp': seccomp,
    'sandbox.read-only-root': read_only_root,
    'sandbox.read-only-resources': read_only_resources,
    'sandbox.network': network,
    'sandbox.docker-socket': docker_socket,
    'sandbox.kernel': kernel,
    'limit.cpu': cpu,
    'limit.storage': storage,
    'limit.pids': pids,
    'limit.memory': memory,
}


def main(argv):
    config = json.loads(argv[1])
    only = config.get('only')
    for check, trial in TRIALS.items():
        if only is not None and check not in only:
            continue
        try:
            trial(config)
        except Exception as e:
            report(check, error='%s: %s' % (type(e).__name__, e))


if __name__ == '__main__':
    main(sys.argv)
