#!/usr/bin/env node
// Drives @vercel/fun, a Lambda emulator nobody here wrote, for
// tests/e2e/test_lambda_fun.py: fun runs a `provided` function directory
// whose `bootstrap` is forkboxd, with its own Runtime API server.
//
//   node tests/lambda/fun_driver.js NPM_PREFIX     (fun in NPM_PREFIX/node_modules)
//
// Commands on stdin, one JSON object a line; answers on stdout, one JSON
// object a line, each with a "fun" key (anything else on stdout was
// written by a bootstrap, which shares our stdout: fun spawns it with
// stdio 'inherit'; the test ignores such lines):
//
//   {"op": "create", "dir": D, "handler": "func.handler", "env": {...},
//    "memory": MB, "timeout": S, "access_key_id": K, "secret_access_key": S}
//       => {"fun": "created"}
//   {"op": "invoke", "id": X, "payload": "<JSON text>"}
//       => {"fun": "result", "id": X, "status": 200, "function_error": null |
//           "Handled" | "Unhandled", "payload": "<text>", "ms": elapsed,
//           "bootstraps": [pids], "started": N, "connections": N, "pool": {...}}
//       bootstraps: the bootstrap processes alive now; started: how many
//       fun has started so far; connections: how many TCP connections
//       runtimes have made to fun's Runtime API servers so far.
//       Not awaited: several invokes in a row run concurrently, as fun's
//       own callers would (one bootstrap per concurrent invocation).
//   {"op": "state"}   => {"fun": "state", "bootstraps", "started",
//       "connections", "pool"}: the same, now
//   {"op": "destroy"} => {"fun": "destroyed", "processes": [{"pid", "code",
//       "signal", "exited"}]}: fn.destroy() (SIGCONT, then tree-kill's
//       SIGTERM to every bootstrap and its descendants), then up to 15 s
//       for the bootstraps to exit: destroy() resolves before its signals
//       are even sent.
// Any failure of a command => {"fun": "error", "id": X, "op": ..., "message"}.
// End of stdin destroys the function and exits.
'use strict';

const fs = require('fs');
const path = require('path');
const readline = require('readline');

const prefix = path.resolve(process.argv[2] || 'build/npm');
// fun keeps copies of its runtimes' bootstraps in the XDG cache dir (the
// path is taken when it is loaded): keep them in the build dir, not $HOME.
if (!process.env.XDG_CACHE_HOME) {
	process.env.XDG_CACHE_HOME = path.join(prefix, 'cache');
}
// Every process fun starts, seen from the outside: fun spawns its
// runtime's bootstrap with child_process.spawn, looked up on the module
// object at each call, so wrapping it here (before fun is loaded) only
// observes: its pid and how it ended.
const childProcess = require('child_process');
const started = [];
const realSpawn = childProcess.spawn;
childProcess.spawn = function (file, ...rest) {
	const proc = realSpawn.call(this, file, ...rest);
	if (path.basename(String(file)) === 'bootstrap') {
		const rec = { pid: proc.pid, code: null, signal: null, exited: false };
		started.push(rec);
		proc.on('exit', (code, signal) => {
			Object.assign(rec, { code, signal, exited: true });
		});
	}
	return proc;
};
const funDir = path.join(prefix, 'node_modules', '@vercel', 'fun');
const fun = require(funDir);
// Connections made to fun's Runtime API servers, counted the same way:
// every RuntimeServer emits 'connection' through its prototype's emit.
const { RuntimeServer } = require(path.join(funDir, 'dist', 'src', 'runtime-server'));
let connections = 0;
const realEmit = RuntimeServer.prototype.emit;
RuntimeServer.prototype.emit = function (event, ...args) {
	if (event === 'connection') connections++;
	return realEmit.call(this, event, ...args);
};

let fn = null;
let pending = 0;
let ending = false;

function say(obj) {
	process.stdout.write(JSON.stringify(obj) + '\n');
}

// The bootstraps fun runs are our direct children named `bootstrap`
// (fun's provided/bootstrap is a bash script that execs the function's
// own bootstrap, so the pid stays the one fun spawned).
function bootstraps() {
	const out = [];
	let tasks = [];
	try {
		tasks = fs.readdirSync('/proc/self/task');
	} catch (e) {
		return out;
	}
	for (const t of tasks) {
		let kids = '';
		try {
			kids = fs.readFileSync(`/proc/self/task/${t}/children`, 'utf8');
		} catch (e) {
			continue;
		}
		for (const pid of kids.split(/\s+/).filter(Boolean)) {
			try {
				const comm = fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
				if (comm === 'bootstrap') out.push(Number(pid));
			} catch (e) {
				// gone meanwhile
			}
		}
	}
	return out.sort((a, b) => a - b);
}

function poolState() {
	const p = fn && fn.provider && fn.provider.pool;
	if (!p) return null;
	// generic-pool's public counters.
	return { size: p.size, available: p.available, borrowed: p.borrowed,
		 pending: p.pending };
}

async function create(cmd) {
	fn = await fun.createFunction({
		Code: { Directory: cmd.dir },
		Handler: cmd.handler || 'func.handler',
		Runtime: 'provided',
		Environment: { Variables: cmd.env || {} },
		MemorySize: cmd.memory || 512,
		Timeout: cmd.timeout || 3,
		AccessKeyId: cmd.access_key_id,
		SecretAccessKey: cmd.secret_access_key,
	});
	say({ fun: 'created' });
}

async function invoke(cmd) {
	if (!fn) throw new Error('invoke before create');
	const start = process.hrtime.bigint();
	const res = await fn.invoke({
		InvocationType: 'RequestResponse',
		Payload: cmd.payload,
	});
	const ms = Number(process.hrtime.bigint() - start) / 1e6;
	say({
		fun: 'result',
		id: cmd.id,
		status: res.StatusCode,
		function_error: res.FunctionError || null,
		payload: res.Payload == null ? null : String(res.Payload),
		ms,
		bootstraps: bootstraps(),
		started: started.length,
		connections,
		pool: poolState(),
	});
}

async function destroy() {
	if (fn) {
		const f = fn;
		fn = null;
		await f.destroy();
	}
	// destroy() resolves once the signals are sent: wait for the exits.
	const until = Date.now() + 15000;
	while (started.some((r) => !r.exited) && Date.now() < until) {
		await new Promise((r) => setTimeout(r, 20));
	}
	say({ fun: 'destroyed', processes: started });
}

async function run(cmd) {
	switch (cmd.op) {
	case 'create':
		return create(cmd);
	case 'invoke':
		return invoke(cmd);
	case 'state':
		return say({ fun: 'state', bootstraps: bootstraps(),
			     started: started.length, connections, pool: poolState() });
	case 'destroy':
		return destroy();
	default:
		throw new Error(`unknown op ${JSON.stringify(cmd.op)}`);
	}
}

function finish() {
	if (!ending || pending > 0) return;
	destroy().then(() => process.exit(0), (e) => {
		say({ fun: 'error', op: 'destroy', message: String(e && e.stack || e) });
		process.exit(1);
	});
}

const rl = readline.createInterface({ input: process.stdin });
rl.on('line', (line) => {
	if (!line.trim()) return;
	let cmd;
	try {
		cmd = JSON.parse(line);
	} catch (e) {
		say({ fun: 'error', message: `not JSON: ${line.slice(0, 200)}` });
		return;
	}
	pending++;
	run(cmd).catch((e) => {
		say({ fun: 'error', id: cmd.id, op: cmd.op,
		      message: String(e && e.stack || e) });
	}).finally(() => {
		pending--;
		finish();
	});
});
rl.on('close', () => {
	ending = true;
	finish();
});
