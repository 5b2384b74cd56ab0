"""End-to-end tests of waymark's Matrix adapter against a real Synapse.

Real Matrix clients (matrix-nio with end-to-end encryption) play the young people, a moderator and
a non-moderator; the bot is the real `waymark run` binary with the Matrix adapter. Started by
`tests/matrix.rs` (through `cargo test`) when scripts/test has started Synapse; needs:
MATRIX_HOMESERVER, MATRIX_SERVER_NAME, MATRIX_BOT_USER, MATRIX_BOT_PASSWORD, MATRIX_HUMAN_USER,
MATRIX_HUMAN_PASSWORD, SYNAPSE_REGISTRATION_SECRET (written by scripts/synapse/start-synapse.sh) and
WAYMARK_BIN (the binary under test). Prints `N passed, N failed` and exits non-zero on a failure.
"""

import asyncio
import hashlib
import hmac
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.error
import urllib.request

from nio import (AsyncClient, AsyncClientConfig, LoginResponse, MegolmEvent, RoomCreateResponse,
                 RoomMessageNotice, RoomMessageText)

HS = os.environ["MATRIX_HOMESERVER"]
SERVER = os.environ.get("MATRIX_SERVER_NAME", "localhost")
SECRET = os.environ["SYNAPSE_REGISTRATION_SECRET"]
BOT_USER = os.environ["MATRIX_BOT_USER"]
BOT_BIN = os.environ["WAYMARK_BIN"]
WORK = tempfile.mkdtemp(prefix="waymark-matrix-e2e-")
DISCLOSURE = "someone says theyll post my nudes unless i pay them £200 tonight"
ENCRYPTION = [{"type": "m.room.encryption", "state_key": "",
               "content": {"algorithm": "m.megolm.v1.aes-sha2"}}]
TIMEOUT = float(os.environ.get("WAYMARK_E2E_TIMEOUT", "45"))


def log(*a):
    print("[matrix-e2e]", *a, flush=True)


def http(method, path, body=None, token=None):
    req = urllib.request.Request(HS + path, method=method,
                                 data=None if body is None else json.dumps(body).encode())
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", "Bearer " + token)
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.load(r)


def register(user, pw, admin=False):
    nonce = http("GET", "/_synapse/admin/v1/register")["nonce"]
    flag = b"admin" if admin else b"notadmin"
    mac = hmac.new(SECRET.encode(), b"\x00".join([nonce.encode(), user.encode(), pw.encode(), flag]),
                   hashlib.sha1).hexdigest()
    try:
        http("POST", "/_synapse/admin/v1/register",
             {"nonce": nonce, "username": user, "password": pw, "admin": admin, "mac": mac})
    except urllib.error.HTTPError as e:
        if "M_USER_IN_USE" not in e.read().decode():
            raise
    return f"@{user}:{SERVER}"


class Person:
    """A matrix-nio client with E2EE that records what it receives."""

    def __init__(self, name, user, pw):
        self.name, self.user, self.pw = name, user, pw
        path = os.path.join(WORK, "nio", name)
        os.makedirs(path, exist_ok=True)
        self.c = AsyncClient(HS, user, store_path=path,
                             config=AsyncClientConfig(encryption_enabled=True, store_sync_tokens=True))
        self.got = []          # (room_id, event) for text and notices
        self.undecryptable = []
        self.task = None
        self.auto_join = False

    async def start(self):
        r = await self.c.login(self.pw, device_name=f"e2e-{self.name}")
        assert isinstance(r, LoginResponse), r
        self.c.add_event_callback(lambda room, ev: self.got.append((room.room_id, ev)),
                                  (RoomMessageText, RoomMessageNotice))
        self.c.add_event_callback(lambda room, ev: self.undecryptable.append((room.room_id, ev)), MegolmEvent)
        await self.step(0)
        self.task = asyncio.create_task(self.loop())

    async def step(self, timeout):
        await self.c.sync(timeout=timeout)
        if self.c.should_upload_keys:
            await self.c.keys_upload()
        if self.c.should_query_keys:
            await self.c.keys_query()
        if self.c.should_claim_keys:
            await self.c.keys_claim(self.c.get_users_for_key_claiming())
        if self.auto_join:
            for room_id in list(self.c.invited_rooms):
                await self.c.join(room_id)

    async def loop(self):
        while True:
            try:
                await self.step(1000)
            except asyncio.CancelledError:
                raise
            except Exception as e:  # keep syncing through transient errors
                log(self.name, "sync error", e)
                await asyncio.sleep(0.5)

    async def create_room(self, name, invite, encrypted, direct=False):
        r = await self.c.room_create(name=name, invite=invite, is_direct=direct,
                                     initial_state=ENCRYPTION if encrypted else [])
        assert isinstance(r, RoomCreateResponse), r
        return r.room_id

    async def say(self, room, text):
        # make sure the room's members and their devices are known before encrypting
        for _ in range(3):
            await self.step(0)
        r = await self.c.room_send(room, "m.room.message", {"msgtype": "m.text", "body": text},
                                   ignore_unverified_devices=True)
        assert hasattr(r, "event_id"), r
        return r.event_id

    def from_bot(self, room=None, after=0):
        return [(rid, ev) for i, (rid, ev) in enumerate(self.got)
                if i >= after and ev.sender == BOT_USER and (room is None or rid == room)]

    async def wait_bot(self, what, room, pred=lambda ev: True, after=0, timeout=TIMEOUT):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for rid, ev in self.from_bot(room, after):
                if pred(ev):
                    return ev
            await asyncio.sleep(0.2)
        seen = [(rid, ev.body[:80]) for rid, ev in self.from_bot(None, after)]
        raise AssertionError(f"{self.name}: timed out waiting for {what}; bot messages seen: {seen}; "
                             f"undecryptable: {len(self.undecryptable)}")

    async def close(self):
        if self.task:
            self.task.cancel()
        await self.c.close()


def check_notice(ev):
    """Every bot message is an m.notice that pings nobody, with rendered HTML."""
    content = ev.source.get("content", {})
    assert content.get("msgtype") == "m.notice", content
    assert content.get("m.mentions") == {}, f"m.mentions must be empty: {content}"
    assert content.get("format") == "org.matrix.custom.html" and content.get("formatted_body"), content


def die_with_parent():
    """In the bot's process before exec: the kernel kills it if this script dies (a killed test)."""
    try:
        import ctypes
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)   # PR_SET_PDEATHSIG
    except OSError:
        pass


class Bot:
    def __init__(self, config):
        self.config = config
        self.proc = None
        self.data = os.path.join(WORK, "bot-data")
        self.logs = []

    def start(self, extra_env=None, invites=None, matrix=None):
        cfg = json.loads(json.dumps(self.config))
        if invites is not None:
            cfg["adapters"]["matrix"]["invites"] = invites
        cfg["adapters"]["matrix"].update(matrix or {})
        path = os.path.join(WORK, "waymark.yaml")
        with open(path, "w") as f:
            json.dump(cfg, f)   # JSON is YAML
        env = dict(os.environ, WAYMARK_MATRIX_PASSWORD=os.environ["MATRIX_BOT_PASSWORD"],
                   WAYMARK_MATRIX_STORE_PASSPHRASE="e2e store passphrase",
                   WAYMARK_LOG="info,matrix_sdk=warn,matrix_sdk_crypto=warn,matrix_sdk_base=warn")
        env.update(extra_env or {})
        logfile = open(os.path.join(WORK, f"bot-{len(self.logs)}.log"), "w")
        self.logs.append(logfile.name)
        self.proc = subprocess.Popen([BOT_BIN, "run", "--config", path, "--data", self.data],
                                     stdin=subprocess.DEVNULL, stdout=logfile, stderr=subprocess.STDOUT, env=env,
                                     preexec_fn=die_with_parent)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    async def wait_exit(self, timeout=TIMEOUT):
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None:
            assert time.monotonic() < deadline, "the bot did not exit"
            await asyncio.sleep(0.2)
        self.proc = None

    def logged(self, text):
        """Whether any of the bot's logs so far has a line containing `text`."""
        for name in self.logs:
            with open(name) as f:
                if any(text in line for line in f):
                    return True
        return False

    async def wait_log(self, text, timeout=TIMEOUT):
        deadline = time.monotonic() + timeout
        while not self.logged(text):
            assert time.monotonic() < deadline, f"the bot never logged {text!r}"
            await asyncio.sleep(0.3)

    def tail(self):
        out = []
        for name in self.logs:
            with open(name) as f:
                out.append(f"--- {name}\n" + "".join(f.readlines()[-40:]))
        return "\n".join(out)


def relates(ev):
    return ev.source.get("content", {}).get("m.relates_to", {}) or {}


def reply_target(ev):
    return relates(ev).get("m.in_reply_to", {}).get("event_id")


def restart_synapse():
    """Stops the Synapse that scripts/test started (SIGTERM, the pid it wrote) and starts it again
    on the same database and port, writing the new pid where scripts/synapse/stop-synapse.sh
    looks for it."""
    syn_dir = os.environ["SYN_DIR"]
    pidfile = os.path.join(syn_dir, "synapse.pid")
    with open(pidfile) as f:
        pid = int(f.read().strip())
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.2)
    else:
        raise AssertionError("Synapse did not stop")
    return syn_dir, pidfile


def start_synapse(syn_dir, pidfile):
    out = open(os.path.join(syn_dir, "stdout-restart.log"), "a")
    proc = subprocess.Popen([sys.executable, "-m", "synapse.app.homeserver", "-c",
                             os.path.join(syn_dir, "homeserver.yaml")],
                            stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                            start_new_session=True)
    with open(pidfile, "w") as f:
        f.write(f"{proc.pid}\n")
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            http("GET", "/_matrix/client/versions")
            return
        except (urllib.error.URLError, ConnectionError, OSError):
            time.sleep(0.3)
    raise AssertionError("Synapse did not come back")


def membership(room, user, token):
    try:
        ev = http("GET", f"/_matrix/client/v3/rooms/{urllib.request.quote(room)}/state/m.room.member/"
                         f"{urllib.request.quote(user)}", token=token)
        return ev.get("membership")
    except urllib.error.HTTPError:
        return None


async def wait_membership(room, user, token, want, timeout=TIMEOUT):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if membership(room, user, token) == want:
            return
        await asyncio.sleep(0.3)
    raise AssertionError(f"membership of the bot in a room never became {want}: {membership(room, user, token)}")


async def wait_cross_signing(token, timeout=TIMEOUT):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r = http("POST", "/_matrix/client/v3/keys/query", {"device_keys": {BOT_USER: []}}, token=token)
        if BOT_USER in r.get("master_keys", {}) and BOT_USER in r.get("self_signing_keys", {}):
            return
        await asyncio.sleep(0.5)
    raise AssertionError("the bot did not bootstrap cross-signing (no master / self-signing key)")


def bot_devices(token):
    r = http("POST", "/_matrix/client/v3/keys/query", {"device_keys": {BOT_USER: []}}, token=token)
    return set(r.get("device_keys", {}).get(BOT_USER, {}).keys())


async def main():
    results = []
    alice = Person("alice", os.environ["MATRIX_HUMAN_USER"], os.environ["MATRIX_HUMAN_PASSWORD"])
    mod = Person("mod", register("mod", "mod-password"), "mod-password")
    bob = Person("bob", register("bob", "bob-password"), "bob-password")
    carol = Person("carol", register("carol", "carol-password"), "carol-password")
    carol.auto_join = True
    register("admin", "admin-password", admin=True)
    state = {"admin_token": http("POST", "/_matrix/client/v3/login", {
        "type": "m.login.password", "password": "admin-password",
        "identifier": {"type": "m.id.user", "user": "admin"}})["access_token"]}
    people = [alice, mod, bob, carol]
    for p in people:
        await p.start()

    # Rooms exist before the bot starts: it finds the invites in its first sync and joins them.
    mod_room = await mod.create_room("moderators", [BOT_USER, bob.user], encrypted=True)
    await bob.c.join(mod_room)
    dm = await alice.create_room("", [BOT_USER], encrypted=True, direct=True)
    group = await alice.create_room("youth group", [BOT_USER, carol.user, bob.user], encrypted=False)
    await carol.c.join(group)
    await bob.c.join(group)
    config = {
        "data_dir": os.path.join(WORK, "bot-data"),
        "moderators": {"rooms": [{"platform": "matrix", "conversation": mod_room}]},
        "adapters": {"matrix": {
            "homeserver": HS, "user": BOT_USER, "password_env": "WAYMARK_MATRIX_PASSWORD",
            "device_name": "waymark e2e", "store_dir": os.path.join(WORK, "bot-matrix"),
            "store_passphrase_env": "WAYMARK_MATRIX_STORE_PASSPHRASE",
            "moderator_power_level": 50,
            "invites": {"accept": "servers", "servers": [SERVER]},
        }},
    }
    bot = Bot(config)
    bot.start()
    for room, token_of in ((mod_room, mod), (dm, alice), (group, alice)):
        await wait_membership(room, BOT_USER, token_of.c.access_token, "join")
    log("the bot joined the moderators' room, the DM and the group room on start")
    for p in people:
        await p.step(0)

    async def test(name, fn):
        try:
            await fn()
            results.append((name, None))
            log("PASS", name)
        except Exception as e:  # noqa: BLE001 - report every failure
            results.append((name, e))
            log("FAIL", name, "".join(traceback.format_exception(e)))

    async def question_in_an_encrypted_dm():
        mark = len(alice.got)
        await alice.say(dm, "what is grooming?")
        ev = await alice.wait_bot("the guidance answer", dm, after=mark)
        check_notice(ev)
        assert ev.decrypted, "the answer in an encrypted DM must be encrypted"
        assert "groom" in ev.body.lower(), ev.body
        state["devices"] = bot_devices(alice.c.access_token)
        await wait_cross_signing(alice.c.access_token)

    async def disclosure_in_a_group_room():
        marks = {p.name: len(p.got) for p in people}
        await carol.say(group, DISCLOSURE)
        # carol has no DM with the bot: it opens an encrypted one, carol joins and reads it.
        private = await carol.wait_bot("a private reply", None,
                                       lambda ev: "not your fault" in ev.body.lower(), after=marks["carol"])
        check_notice(private)
        dm_room = [rid for rid, ev in carol.from_bot(None, marks["carol"]) if ev is private][0]
        assert dm_room != group, "the full reply must not go to the group room"
        assert private.decrypted, "the private reply must be encrypted"
        assert "moderator" in private.body.lower(), private.body
        state["carol_dm"] = dm_room
        notice = await mod.wait_bot("the case in the moderators' room", mod_room,
                                    lambda ev: "C-" in ev.body and "sextortion" in ev.body, after=marks["mod"])
        check_notice(notice)
        assert "nudes unless i pay" in notice.body, "moderators see the excerpt: " + notice.body
        assert carol.user not in notice.body, "moderators see a pseudonym, not the user id"
        state["case"] = next(w for w in notice.body.replace("*", " ").replace("`", " ").split()
                             if w.startswith("C-")).strip(".,:;()")
        await asyncio.sleep(2)
        for rid, ev in bob.from_bot(group, marks["bob"]):
            check_notice(ev)
            for word in ("nudes", "pay", "200", "post"):
                assert word not in ev.body.lower(), f"the group room sees the disclosure: {ev.body}"
        assert len(bob.from_bot(group, marks["bob"])) <= 1, "at most one neutral note in the group room"

    async def moderator_claims_and_replies():
        case = state["case"]
        mark_c, mark_m = len(carol.got), len(mod.got)
        await mod.say(mod_room, f"!claim {case}")
        await carol.wait_bot("told a moderator picked it up", state["carol_dm"],
                             lambda ev: "picked up" in ev.body, after=mark_c)
        await mod.say(mod_room, f"!reply {case} You did the right thing. Are you safe right now?")
        ev = await carol.wait_bot("the moderator's reply", state["carol_dm"],
                                  lambda ev: "Are you safe right now?" in ev.body, after=mark_c)
        assert ev.decrypted and "A moderator from this community says" in ev.body, ev.body
        assert mod.user not in ev.body, "the reply does not name the moderator"
        await mod.wait_bot("a confirmation for the moderators", mod_room, after=mark_m)

    async def a_non_moderator_is_refused():
        mark = len(bob.got)
        await bob.say(mod_room, "!cases")
        ev = await bob.wait_bot("a refusal", mod_room, lambda ev: "moderators' command" in ev.body, after=mark)
        assert state["case"] not in ev.body and "sextortion" not in ev.body, ev.body
        await asyncio.sleep(1)
        for rid, e in bob.from_bot(mod_room, mark):
            assert "Open cases" not in e.body, "a non-moderator never sees the case list"

    async def a_user_who_left_their_dm_gets_a_new_one():
        old = state["carol_dm"]
        await carol.c.room_leave(old)
        await wait_membership(old, carol.user, carol.c.access_token, "leave")
        await asyncio.sleep(2)   # the bot's sync has seen it
        mark = len(carol.got)
        await mod.say(mod_room, f"!reply {state['case']} We are still here if you want to talk.")
        ev = await carol.wait_bot("the reply in a new direct room", None,
                                  lambda ev: "still here if you want to talk" in ev.body, after=mark)
        room = [rid for rid, e in carol.from_bot(None, mark) if e is ev][0]
        assert room != old, "the reply went to the direct room the user had left"
        assert ev.decrypted, "the new direct room must be encrypted"

    async def another_bots_notice_is_not_answered():
        # Another bot speaks in m.notice; answering it could start two bots talking forever.
        mark = len(alice.got)
        for _ in range(3):
            await alice.step(0)
        await alice.c.room_send(dm, "m.room.message", {"msgtype": "m.notice", "body": "what is grooming?"},
                                ignore_unverified_devices=True)
        await asyncio.sleep(4)   # more than the bot takes to answer a question
        for _ in range(3):
            await alice.step(0)
        assert not alice.from_bot(dm, mark), "the bot answered an m.notice"
        # It is still listening: a plain message right after is answered.
        await alice.say(dm, "what is sextortion?")
        await alice.wait_bot("the answer to the text after the notice", dm, after=mark)

    async def a_reply_in_a_thread_stays_in_the_thread():
        root = await alice.say(group, "a question about something i saw online")
        mark = len(alice.got)
        for _ in range(3):
            await alice.step(0)
        r = await alice.c.room_send(group, "m.room.message", {
            "msgtype": "m.text", "body": "what is grooming?", "m.mentions": {"user_ids": [BOT_USER]},
            "m.relates_to": {"rel_type": "m.thread", "event_id": root, "is_falling_back": True,
                             "m.in_reply_to": {"event_id": root}}}, ignore_unverified_devices=True)
        asked = r.event_id
        ev = await alice.wait_bot("an answer in the thread", group, lambda ev: reply_target(ev) == asked, after=mark)
        check_notice(ev)
        rel = relates(ev)
        assert rel.get("rel_type") == "m.thread" and rel.get("event_id") == root, rel
        assert "groom" in ev.body.lower(), ev.body

    async def rate_limits_are_waited_out_and_nothing_is_lost():
        # Synapse's admin API limits the bot to one message at once, one a second: its sends get
        # 429 M_LIMIT_EXCEEDED, which matrix-sdk waits out for as long as the homeserver asks
        # (the adapter's own wait and the outbox's retries come after that).
        admin_token = state["admin_token"]
        path = f"/_synapse/admin/v1/users/{urllib.request.quote(BOT_USER)}/override_ratelimit"
        http("POST", path, {"messages_per_second": 1, "burst_count": 1}, token=admin_token)
        try:
            mark = len(alice.got)
            asked = []
            for _ in range(3):
                await alice.step(0)
            for q in ("what is sextortion?", "what is grooming?", "how do i report something online"):
                r = await alice.c.room_send(dm, "m.room.message", {"msgtype": "m.text", "body": q},
                                            ignore_unverified_devices=True)
                asked.append(r.event_id)   # back to back: the bot's answers leave at once
            for a in asked:
                await alice.wait_bot("every answer", dm, lambda ev, a=a: reply_target(ev) == a, after=mark,
                                     timeout=TIMEOUT * 2)
            await asyncio.sleep(2)
            targets = [reply_target(ev) for _, ev in alice.from_bot(dm, mark)]
            assert len(targets) == len(set(targets)), f"an answer was shown twice: {targets}"
            if os.environ.get("SYN_DIR"):
                with open(os.path.join(os.environ["SYN_DIR"], "homeserver.log")) as f:
                    limited = sum(1 for line in f if "429" in line and "{" + BOT_USER + "}" in line)
                assert limited > 0, "the homeserver never rate-limited the bot"
                log(f"the bot was rate-limited {limited} time(s) and waited")
        finally:
            req = urllib.request.Request(HS + path, method="DELETE")
            req.add_header("Authorization", "Bearer " + admin_token)
            urllib.request.urlopen(req, timeout=30).close()

    async def a_kicked_bot_leaves_and_forgets_the_room():
        room = await mod.create_room("kick test", [BOT_USER], encrypted=False)
        await wait_membership(room, BOT_USER, mod.c.access_token, "join")
        r = await mod.c.room_kick(room, BOT_USER, reason="testing")
        assert not hasattr(r, "status_code"), r
        await bot.wait_log("removed from a room: forgotten")
        await asyncio.sleep(2)
        assert membership(room, BOT_USER, mod.c.access_token) == "leave", "the bot came back after a kick"

    async def restart_answers_no_old_message_and_keeps_its_device():
        bot.stop()
        old = await alice.say(dm, "how do i report something online")
        await asyncio.sleep(2)
        mark = len(alice.got)
        bot.start()
        await asyncio.sleep(6)   # the first sync after the restart is over
        new = await alice.say(dm, "what is sextortion?")
        ev = await alice.wait_bot("an answer after the restart", dm,
                                  lambda ev: ev.source["content"].get("m.relates_to", {})
                                  .get("m.in_reply_to", {}).get("event_id") == new, after=mark)
        assert ev.decrypted
        await asyncio.sleep(3)
        for rid, e in alice.from_bot(dm, mark):
            target = e.source["content"].get("m.relates_to", {}).get("m.in_reply_to", {}).get("event_id")
            assert target != old, "a message sent while the bot was down was answered after the restart"
        assert len(alice.from_bot(dm, mark)) == 1, [e.body[:60] for _, e in alice.from_bot(dm, mark)]
        after = bot_devices(alice.c.access_token)
        assert after == state["devices"], f"the bot's devices changed across a restart: {state['devices']} -> {after}"

    async def a_notice_queued_while_down_is_delivered_after_restart():
        # The bot dies (as kill -9 would) right after its first delivery is confirmed; the case
        # notice for the moderators is still in its outbox and must arrive once it is back.
        bot.stop()
        bot.start(extra_env={"WAYMARK_FAULT_ABORT_AFTER": "1"})
        await asyncio.sleep(6)
        mark_a, mark_m = len(alice.got), len(mod.got)
        await alice.say(dm, "he says he will share my pics with my school unless i send more")
        await bot.wait_exit()
        log("the bot aborted after its first delivery, as intended")
        await asyncio.sleep(2)
        assert not mod.from_bot(mod_room, mark_m), "the case notice came before the restart"
        bot.start()
        notice = await mod.wait_bot("the queued case notice", mod_room, lambda ev: "C-" in ev.body, after=mark_m)
        check_notice(notice)
        await asyncio.sleep(2)
        bodies = [e.body for _, e in alice.from_bot(dm, mark_a)]
        assert len(bodies) == len(set(bodies)), f"a delivery was shown twice: {bodies}"

    async def the_bot_reconnects_after_the_homeserver_restarts():
        syn_dir, pidfile = restart_synapse()
        log("Synapse stopped; the bot's sync fails and backs off")
        await asyncio.sleep(4)
        start_synapse(syn_dir, pidfile)
        log("Synapse is back; the bot logged a failed sync:", bot.logged("Matrix sync failed"))
        mark = len(alice.got)
        asked = await alice.say(dm, "what is grooming?")
        await alice.wait_bot("an answer after the reconnect", dm, lambda ev: reply_target(ev) == asked,
                             after=mark, timeout=TIMEOUT * 2)

    async def an_invite_from_a_server_not_allowed_is_declined():
        bot.stop()
        bot.start(invites={"accept": "servers", "servers": ["trusted.example"]})
        await asyncio.sleep(5)
        room = await alice.create_room("not allowed", [BOT_USER], encrypted=False)
        await wait_membership(room, BOT_USER, alice.c.access_token, "leave")
        # and the bot still answers where it is
        mark = len(alice.got)
        await alice.say(dm, "what is grooming?")
        await alice.wait_bot("still answering", dm, after=mark)

    async def login_with_an_access_token():
        # A fresh store and the access token of a device the account already has (BOTDEVICE,
        # logged in by scripts/synapse/start-synapse.sh): that device becomes the bot's.
        bot.stop()
        bot.start(extra_env={"WAYMARK_MATRIX_TOKEN": os.environ["MATRIX_BOT_TOKEN"]},
                  matrix={"password_env": None, "access_token_env": "WAYMARK_MATRIX_TOKEN",
                          "store_dir": os.path.join(WORK, "bot-matrix-token")})
        await bot.wait_log("logged in to Matrix with an access token")
        await asyncio.sleep(5)
        mark = len(alice.got)
        asked = await alice.say(dm, "what is sextortion?")
        ev = await alice.wait_bot("an answer from the token's device", dm, lambda ev: reply_target(ev) == asked,
                                  after=mark)
        assert ev.decrypted, "the answer must be encrypted"
        assert os.environ["MATRIX_BOT_DEVICE"] in bot_devices(alice.c.access_token), \
            "the token's device did not upload its keys"

    await test("a question in an encrypted DM gets the guidance answer, encrypted (and cross-signing is set up)",
               question_in_an_encrypted_dm)
    await test("a disclosure in a group room goes to an encrypted DM and the moderators' room",
               disclosure_in_a_group_room)
    if "case" in state:
        await test("a moderator !claims and !replies; the young person gets it in their DM",
                   moderator_claims_and_replies)
        await test("a non-moderator's !cases is refused", a_non_moderator_is_refused)
        await test("a young person who left their direct room gets the next reply in a new one",
                   a_user_who_left_their_dm_gets_a_new_one)
    await test("another bot's m.notice is not answered", another_bots_notice_is_not_answered)
    await test("a reply to a message in a thread stays in the thread", a_reply_in_a_thread_stays_in_the_thread)
    await test("rate limits (M_LIMIT_EXCEEDED) are waited out; every answer arrives once",
               rate_limits_are_waited_out_and_nothing_is_lost)
    await test("a kicked bot leaves and forgets the room", a_kicked_bot_leaves_and_forgets_the_room)
    await test("a restart answers no old message and keeps the same device",
               restart_answers_no_old_message_and_keeps_its_device)
    await test("a case notice queued while the bot was down is delivered after it comes back",
               a_notice_queued_while_down_is_delivered_after_restart)
    if os.environ.get("SYN_DIR"):
        await test("the bot reconnects after the homeserver restarts", the_bot_reconnects_after_the_homeserver_restarts)
    await test("an invite from a server that is not allowed is declined",
               an_invite_from_a_server_not_allowed_is_declined)
    await test("the bot logs in with an access token instead of a password", login_with_an_access_token)

    bot.stop()
    for p in people:
        await p.close()

    async def the_logs_hold_no_message_text_and_no_user_ids():
        # the bot's own id may appear (matrix-sdk warns about its own devices); nobody else's
        for name in bot.logs:
            with open(name) as f:
                text = f.read()
            for secret in [p.user for p in people] + [DISCLOSURE, "share my pics", "Are you safe right now"]:
                assert secret not in text, f"{os.path.basename(name)} holds {secret!r}"

    await test("the bot's logs hold no message text and no user ids", the_logs_hold_no_message_text_and_no_user_ids)
    failed = [n for n, e in results if e]
    if failed:
        print(bot.tail(), flush=True)
    print(f"{len(results) - len(failed)} passed, {len(failed)} failed", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    try:
        code = asyncio.run(main())
    finally:
        if os.environ.get("WAYMARK_E2E_KEEP") != "1":
            shutil.rmtree(WORK, ignore_errors=True)
    sys.exit(code)
