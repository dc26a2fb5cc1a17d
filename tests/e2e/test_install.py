"""make install PREFIX=...: binaries, library, headers, policies and a
pkg-config file that a host program builds against."""

import os
import shutil
import subprocess
import tempfile

from harness import ROOT, BUILD, Skip, module, ok

HOST = r'''
#include <forkbox.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
int main(int argc, char **argv)
{
	struct fbx_config cfg;
	fbx_config_init(&cfg);
	cfg.module_path = argv[1];
	cfg.tmp_base = argv[2];
	fbx_sandbox *sb;
	struct fbx_error err;
	if (fbx_open(&cfg, &sb, &err) < 0) {
		fprintf(stderr, "%s\n", err.msg);
		return 1;
	}
	char *resp = NULL;
	int rc = fbx_invoke(sb, "{\"event\": {}}", 13, &resp, &err);
	printf("%s\n", resp ? resp : err.msg);
	free(resp);
	fbx_close(sb);
	return rc < 0;
}
'''


def test_install_and_build_a_host_with_pkg_config():
    if BUILD != "build":
        raise Skip("install is checked once, from the plain build")
    prefix = tempfile.mkdtemp(prefix="fbx-prefix-")
    os.chmod(prefix, 0o755)
    try:
        env = dict(os.environ, MAKEFLAGS="")
        p = subprocess.run(["make", "-s", "install", "PREFIX=" + prefix, "BUILD=build-install"],
                           cwd=ROOT, capture_output=True, text=True, env=env, timeout=600)
        assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-2000:]
        for rel in ("bin/forkboxd", "bin/forkbox", "libexec/forkbox/forkbox-zygote",
                    "lib/libforkbox.a", "lib/libforkbox.so", "include/forkbox.h",
                    "include/forkbox_module.h", "share/forkbox/policies/native.policy",
                    "share/forkbox/policies/base.policy", "lib/pkgconfig/forkbox.pc"):
            assert os.path.exists(os.path.join(prefix, rel)), rel
        pc_env = dict(os.environ, PKG_CONFIG_PATH=os.path.join(prefix, "lib", "pkgconfig"))
        flags = subprocess.run(["pkg-config", "--cflags", "--libs", "--static", "forkbox"],
                               capture_output=True, text=True, env=pc_env, check=True).stdout.split()
        src = os.path.join(prefix, "host.c")
        with open(src, "w") as f:
            f.write(HOST)
        exe = os.path.join(prefix, "host")
        subprocess.run(["cc", "-o", exe, src] + [x for x in flags if x != "-lforkbox"] +
                       [os.path.join(prefix, "lib", "libforkbox.a"), "-lseccomp", "-lcjson",
                        "-luuid", "-lpthread"], check=True, capture_output=True, text=True)
        # The installed library finds the installed zygote and policies by
        # itself: nothing of the build tree is on its way.
        clean_env = {k: v for k, v in os.environ.items() if not k.startswith("FORKBOX_")}
        base = os.path.join(prefix, "tmp")
        r = subprocess.run([exe, module("counter"), base], capture_output=True, text=True,
                           env=clean_env, cwd="/", timeout=60)
        assert r.returncode == 0, r.stdout + r.stderr
        assert '"result":1' in r.stdout, r.stdout
        v = subprocess.run([os.path.join(prefix, "bin", "forkboxd"), "--help"],
                           capture_output=True, text=True)
        assert v.returncode == 0
    finally:
        shutil.rmtree(prefix, ignore_errors=True)
        shutil.rmtree(os.path.join(ROOT, "build-install"), ignore_errors=True)
