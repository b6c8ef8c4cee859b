// KT1 scan page (/scan/): record handoffs with a keyboard-wedge scanner or a phone camera.
//
// Every scan goes to the scanner API with this device's token. When the server cannot be
// reached the scan is queued in IndexedDB (KT1Queue) with its scan id and device time and
// sent later through /handoffs/batch; the server answers a replayed scan id with 200 and
// the stored result, so nothing is ever recorded twice. While anything is queued, new scans
// join the end of the queue, so that scans of one envelope always reach the server in the
// order they were taken.
(function () {
  "use strict";

  var body = document.body;
  var API = body.getAttribute("data-api");
  var LETTERS = body.getAttribute("data-letters");
  var COUNTRY = body.getAttribute("data-country");
  var KEY = "kt1.scan.";
  var BATCH_MAX = 500;
  var TIMEOUT_MS = 8000;

  var MODES = {
    accepted: {label: "Nhận tại quầy", party: "giver-input", receipt: "bạn (giao dịch viên)"},
    bagged: {label: "Đóng túi"},
    // Bag actions: the bag label is scanned (or typed), the details filled in, then the
    // action button sends it. Opening a bag, the envelopes found inside are scanned first.
    bag_sealed: {label: "Niêm phong túi", bag: "seal", action: "Niêm phong túi"},
    dispatched: {label: "Chuyển túi đi", bag: "dispatch", action: "Giao túi cho bưu tá",
                 receipt: "bưu tá nhận túi"},
    bag_received: {label: "Nhận túi", bag: "receive", action: "Nhận túi",
                   receipt: "bạn (người nhận túi)"},
    bag_opened: {label: "Mở túi", bag: "open", action: "Mở túi và đối chiếu"},
    out_for_delivery: {label: "Giao bưu tá đi phát", party: "courier-input",
                       receipt: "bưu tá nhận"},
    delivered: {label: "Phát cho cơ quan", party: "clerk-input", receipt: "văn thư nhận"},
    delivery_failed: {label: "Phát không thành công", reason: "reason-input"},
    registered_incoming: {label: "Vào sổ đến"},
    passed_to_addressee: {label: "Chuyển người có tên", party: "addressee-input",
                          receipt: "người có tên nhận"}
  };
  var PARTY_MISSING = {
    "giver-input": "Chưa nhập người giao (văn thư cơ quan gửi).",
    "courier-input": "Chưa nhập bưu tá nhận đi phát.",
    "clerk-input": "Chưa nhập văn thư cơ quan nhận.",
    "addressee-input": "Chưa nhập người có tên trên bì (tên đăng nhập)."
  };

  function $(id) { return document.getElementById(id); }
  var el = {
    setup: $("setup"), work: $("work"), tokenForm: $("token-form"), tokenInput: $("token-input"),
    operatorForm: $("operator-form"), operatorSelect: $("operator-select"),
    setupMessage: $("setup-message"), forget: $("btn-forget"), settings: $("btn-settings"),
    deviceName: $("device-name"), operatorName: $("operator-name"), net: $("net-status"),
    pending: $("pending"), pendingCount: $("pending-count"), syncBtn: $("btn-sync"),
    modes: $("modes"), context: $("context"), scanForm: $("scan-form"), code: $("code-input"),
    result: $("result"), resultTitle: $("result-title"), resultDetail: $("result-detail"),
    resultWarning: $("result-warning"),
    count: $("count"), expectedOf: $("expected-of"), recent: $("recent"),
    endBatch: $("btn-end-batch"), pin: $("pin-input"), badgeState: $("badge-state"),
    giver: $("giver-input"), giverPin: $("giver-pin-input"),
    giverBadgeState: $("giver-badge-state"),
    receiptWho: $("receipt-who"), bag: $("bag-input"), destination: $("destination-input"),
    newBag: $("btn-new-bag"), expected: $("expected-input"), cameraBtn: $("btn-camera"),
    camera: $("camera"), video: $("camera-video"), cameraMessage: $("camera-message"),
    cameraClose: $("btn-camera-close"), bagAction: $("btn-bag-action"),
    enrolCamera: $("btn-enrol-camera"),
    bagCourier: $("bag-courier-input"), sealInput: $("seal-input"), vehicle: $("vehicle-input"),
    dedicated: $("dedicated-input"), courierPin: $("courier-pin-input"),
    sealState: $("seal-state-input"), report: $("report-input"),
    openedList: $("opened-list"), openedCount: $("opened-count")
  };

  var state = {
    token: localStorage.getItem(KEY + "token") || "",
    device: readJson(KEY + "device"),
    operator: localStorage.getItem(KEY + "operator") || "",
    mode: localStorage.getItem(KEY + "mode") || "accepted",
    badge: null,          // a scanned staff badge: the receipt of the current batch
    giverBadge: null,     // "accepted": the giver's scanned badge (both sides present)
    giverOf: "",          // the giver that identification belongs to
    batch: [],            // scans of the current batch (counted unless refused)
    bagCount: null,       // the open bag's count as the server last said
    pending: 0,
    online: navigator.onLine !== false,
    syncing: false
  };
  if (!MODES[state.mode]) state.mode = "accepted";

  function readJson(key) {
    try { return JSON.parse(localStorage.getItem(key) || "null"); } catch (e) { return null; }
  }

  // ------------------------------------------------------------------ sound

  var audio = null;
  function beep(kind) {
    try {
      var Ctx = window.AudioContext || window.webkitAudioContext;
      if (!Ctx) return;
      audio = audio || new Ctx();
      if (audio.state === "suspended") audio.resume();
      var tones = kind === "ok" ? [[1046, 0, 0.12]]
        : kind === "queued" ? [[660, 0, 0.09], [660, 0.14, 0.09]]
        : kind === "already" ? [[880, 0, 0.08], [740, 0.12, 0.12]]
        : [[220, 0, 0.22], [180, 0.28, 0.32]];
      tones.forEach(function (t) {
        var osc = audio.createOscillator();
        var gain = audio.createGain();
        osc.type = kind === "refused" ? "square" : "sine";
        osc.frequency.value = t[0];
        var start = audio.currentTime + t[1];
        gain.gain.setValueAtTime(0.0001, start);
        gain.gain.exponentialRampToValueAtTime(0.35, start + 0.01);
        gain.gain.exponentialRampToValueAtTime(0.0001, start + t[2]);
        osc.connect(gain).connect(audio.destination);
        osc.start(start);
        osc.stop(start + t[2] + 0.02);
      });
    } catch (e) { /* no sound is better than no scan */ }
    buzz(kind);
  }

  // A short vibration where the device has one: one pulse for a success, two for "already"
  // or "waiting", a long double pulse for a refusal.
  var BUZZ = {ok: 60, already: [60, 80, 60], queued: [60, 80, 60], refused: [250, 120, 250]};
  function buzz(kind) {
    try {
      if (navigator.vibrate && BUZZ[kind]) navigator.vibrate(BUZZ[kind]);
    } catch (e) { /* no vibration either */ }
  }

  // ------------------------------------------------------------------ showing results

  // The result of the last scan is always in sight: a bar fixed to the bottom of the
  // screen, which fills the whole screen for a moment after each scan (it lets taps and
  // keys through, so the next scan never waits for it).
  var flashTimer = null;
  var FLASH_MS = {ok: 1200, replay: 1200, already: 2000, queued: 2000, refused: 3000};
  function fitResult() {
    if (el.result.classList.contains("flash")) return;
    document.body.style.setProperty("--result-space", el.result.offsetHeight + "px");
  }
  // Every answer shown gets the next number (data-seq): what waits for the answer to one
  // scan (a test, a screen reader's script) waits for a number past the one it saw before.
  var shownSeq = 0;
  function show(kind, title, detail, warning) {
    el.result.setAttribute("data-state", kind);
    el.resultTitle.textContent = title;
    el.resultDetail.textContent = detail || "";
    // a warning beside the answer (a label never printed): shown until the next answer
    el.resultWarning.textContent = warning ? warning.text : "";
    el.resultWarning.hidden = !warning;
    if (warning) el.result.setAttribute("data-warning", warning.codes);
    else el.result.removeAttribute("data-warning");
    el.result.setAttribute("data-seq", String(++shownSeq));
    if (flashTimer) clearTimeout(flashTimer);
    flashTimer = null;
    if (FLASH_MS[kind]) {
      el.result.classList.add("flash");
      flashTimer = setTimeout(function () {
        flashTimer = null;
        el.result.classList.remove("flash");
        fitResult();
      }, FLASH_MS[kind]);
    } else {
      el.result.classList.remove("flash");
    }
    fitResult();
    if (!el.camera.hidden && kind !== "idle") {  // the overlay hides the banner: say it there
      el.cameraMessage.textContent = title + (detail ? " — " + detail : "") +
        (warning ? " — " + warning.text : "");
      el.cameraMessage.setAttribute("data-state", kind);
    }
  }

  function reasonOf(data, status) {
    if (data && data.errors && typeof data.errors.message_vi === "string") {
      return data.errors.message_vi;
    }
    if (data && data.error === "invalid_request" && data.errors && data.errors.json) {
      return "Dữ liệu không hợp lệ: " + Object.keys(data.errors.json).join(", ") + ".";
    }
    if (data && data.message) return data.message;
    return "Máy chủ trả lời mã " + status + ".";
  }

  /**
   * A refusal as the clerk reads it. A post office sees an item only once the holder has
   * shown it (present and identified) or listed it on a handover sheet for the office, so
   * at acceptance "not found" may also mean a mistyped giver or giver's PIN: say so.
   */
  function refusalOf(item, data, status) {
    var reason = reasonOf(data, status);
    if (item.mode === "accepted" && data && data.error === "unknown_envelope") {
      reason += " Kiểm tra lại số hiệu, người giao và mã PIN hoặc thẻ của người giao.";
    }
    return reason;
  }

  function addRecent(entry) {
    var li = document.createElement("li");
    li.setAttribute("data-scan-id", entry.scan_id || "");
    li.setAttribute("data-state", entry.state);
    var num = document.createElement("span");
    num.className = "recent-number";
    num.textContent = entry.number;
    var what = document.createElement("span");
    what.className = "recent-what";
    what.textContent = entry.label + (entry.source === "keyboard" ? " · nhập tay" : "");
    var msg = document.createElement("span");
    msg.className = "recent-message";
    msg.textContent = entry.message || "";
    li.appendChild(num);
    li.appendChild(what);
    li.appendChild(msg);
    el.recent.insertBefore(li, el.recent.firstChild);
    while (el.recent.children.length > 50) el.recent.removeChild(el.recent.lastChild);
  }

  function updateRecent(scanId, stateName, message) {
    var items = el.recent.querySelectorAll("li");
    for (var i = 0; i < items.length; i++) {
      if (items[i].getAttribute("data-scan-id") === scanId) {
        items[i].setAttribute("data-state", stateName);
        items[i].querySelector(".recent-message").textContent = message || "";
      }
    }
  }

  function renderCount() {
    // each envelope once, however often it was scanned ("đã nhận rồi" counts, once)
    var seen = {};
    var n = state.batch.filter(function (b) {
      if (b.state === "refused" || seen[b.number]) return false;
      seen[b.number] = true;
      return true;
    }).length;
    if (state.mode === "bagged" && state.bagCount !== null) {
      // what the server last said is in the bag, and what is queued for it
      n = state.bagCount + state.batch.filter(function (b) { return b.state === "queued"; }).length;
    }
    el.count.textContent = String(n);
    var expected = parseInt(el.expected.value, 10);
    el.expectedOf.textContent = expected > 0 ? " / " + expected : "";
    el.count.parentNode.setAttribute("data-complete",
      expected > 0 ? (n === expected ? "yes" : (n > expected ? "over" : "no")) : "");
    return {count: n, expected: expected > 0 ? expected : null};
  }

  function renderPending() {
    el.pendingCount.textContent = String(state.pending);
    el.pending.setAttribute("data-count", String(state.pending));
    el.pending.hidden = state.pending === 0;
    el.syncBtn.hidden = state.pending === 0;
  }

  function setOnline(online) {
    state.online = online;
    el.net.textContent = online ? "Trực tuyến" : "Mất kết nối";
    el.net.setAttribute("data-online", online ? "1" : "0");
    el.net.className = "pill " + (online ? "pill-online" : "pill-offline");
  }

  function refreshPending() {
    return KT1Queue.count().then(function (n) {
      state.pending = n;
      renderPending();
      return n;
    });
  }

  // ------------------------------------------------------------------ the API

  function NetworkError(message) { this.message = message; }

  function api(method, path, payload, token) {
    var ctrl = window.AbortController ? new AbortController() : null;
    var timer = ctrl ? setTimeout(function () { ctrl.abort(); }, TIMEOUT_MS) : null;
    var init = {
      method: method,
      headers: {"Authorization": "Bearer " + (token || state.token), "Accept": "application/json"},
      cache: "no-store",
      credentials: "omit",
      signal: ctrl ? ctrl.signal : undefined
    };
    if (payload !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(payload);
    }
    return fetch(API + path, init).then(function (resp) {
      if (timer) clearTimeout(timer);
      if (resp.status === 502 || resp.status === 503 || resp.status === 504) {
        throw new NetworkError("HTTP " + resp.status);
      }
      return resp.json().catch(function () { return null; }).then(function (data) {
        setOnline(true);
        return {status: resp.status, data: data};
      });
    }, function (err) {
      if (timer) clearTimeout(timer);
      throw new NetworkError(String(err && err.message || err));
    });
  }

  // ------------------------------------------------------------------ set-up

  function showSetup(message) {
    el.work.hidden = true;
    el.setup.hidden = false;
    el.setupMessage.textContent = message || "";
    el.tokenForm.hidden = !!state.token;
    el.forget.hidden = !state.token;
    el.operatorForm.hidden = !(state.token && state.device);
    if (state.device) fillOperators();
    (el.tokenForm.hidden ? el.operatorSelect : el.tokenInput).focus();
  }

  function fillOperators() {
    el.operatorSelect.textContent = "";
    (state.device.operators || []).forEach(function (op) {
      var opt = document.createElement("option");
      opt.value = op.username;
      opt.textContent = op.full_name + " (" + op.username + ")";
      if (op.username === state.operator) opt.selected = true;
      el.operatorSelect.appendChild(opt);
    });
  }

  function showDevice() {
    el.deviceName.textContent = state.device
      ? state.device.name + " · " + state.device.unit.name : "Chưa cài đặt thiết bị";
    var op = state.device && (state.device.operators || []).filter(function (o) {
      return o.username === state.operator;
    })[0];
    el.operatorName.textContent = state.operator
      ? "Người thao tác: " + (op ? op.full_name + " (" + op.username + ")" : state.operator) : "";
  }

  function loadDevice(token) {
    return api("GET", "/device", undefined, token).then(function (r) {
      if (r.status !== 200) throw r;
      state.device = r.data;
      localStorage.setItem(KEY + "device", JSON.stringify(r.data));
      showDevice();
      return r.data;
    });
  }

  // The administrator's device page shows the token once, also as a QR code carrying
  // "KT1-DEVICE:<token>": read by the camera here, or by a scanner into the token field.
  var ENROL_PREFIX = "KT1-DEVICE:";
  function tokenFrom(text) {
    var t = String(text || "").replace(/[\u0000-\u001f\u007f]/g, "").trim();
    return t.toUpperCase().indexOf(ENROL_PREFIX) === 0 ? t.slice(ENROL_PREFIX.length).trim()
                                                       : null;
  }

  el.tokenForm.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var token = KT1Input.clean(el.tokenInput.value).length ? el.tokenInput.value.trim() : "";
    if (!token) return;
    enrol(tokenFrom(token) || token);
  });

  function enrol(token) {
    el.setupMessage.textContent = "Đang kiểm tra mã truy cập…";
    loadDevice(token).then(function () {
      state.token = token;
      localStorage.setItem(KEY + "token", token);
      el.tokenInput.value = "";
      showSetup("Mã truy cập hợp lệ. Chọn người thao tác.");
    }, function (r) {
      if (r instanceof NetworkError) {
        el.setupMessage.textContent = "Không kết nối được máy chủ; thử lại khi có mạng.";
      } else {
        el.setupMessage.textContent = reasonOf(r.data, r.status);
      }
    });
  }
  el.tokenInput.addEventListener("keydown", function (ev) {
    // a scanner reading the QR code ends with Enter: the form submits; with Tab, submit too
    if (ev.key === "Tab" && tokenFrom(el.tokenInput.value)) {
      ev.preventDefault();
      enrol(tokenFrom(el.tokenInput.value));
    }
  });

  el.operatorForm.addEventListener("submit", function (ev) {
    ev.preventDefault();
    state.operator = el.operatorSelect.value;
    localStorage.setItem(KEY + "operator", state.operator);
    endBatch();
    showWork();
  });

  el.forget.addEventListener("click", function () {
    if (state.pending > 0 && !window.confirm(
      "Còn " + state.pending + " lượt quét chờ gửi. Vẫn xóa mã truy cập?")) return;
    ["token", "device", "operator"].forEach(function (k) { localStorage.removeItem(KEY + k); });
    state.token = ""; state.device = null; state.operator = "";
    showDevice();
    showSetup();
  });

  el.settings.addEventListener("click", function () { showSetup(); });

  // ------------------------------------------------------------------ scanning view

  window.addEventListener("resize", fitResult);

  function showWork() {
    el.setup.hidden = true;
    el.work.hidden = false;
    fitResult();
    showDevice();
    selectMode(state.mode, true);
    focusCode();
  }

  function selectMode(mode, keepBatch) {
    state.mode = mode;
    localStorage.setItem(KEY + "mode", mode);
    var buttons = el.modes.querySelectorAll(".mode");
    for (var i = 0; i < buttons.length; i++) {
      var on = buttons[i].getAttribute("data-mode") === mode;
      buttons[i].setAttribute("aria-pressed", on ? "true" : "false");
    }
    var fields = el.context.querySelectorAll(".field[data-for]");
    for (var j = 0; j < fields.length; j++) {
      fields[j].hidden = fields[j].getAttribute("data-for").split(" ").indexOf(mode) < 0;
    }
    el.receiptWho.textContent = (MODES[mode].receipt || "người nhận");
    el.bagAction.hidden = !MODES[mode].bag;
    el.destination.hidden = el.newBag.hidden = mode !== "bagged";
    el.bagAction.textContent = MODES[mode].action || "";
    el.scanForm.parentNode.querySelector(".counter").hidden = !!MODES[mode].bag &&
      MODES[mode].bag !== "open";
    if (!keepBatch) endBatch();
    renderCount();
  }

  el.modes.addEventListener("click", function (ev) {
    var btn = ev.target.closest(".mode");
    if (!btn) return;
    selectMode(btn.getAttribute("data-mode"), false);
    show("idle", "Sẵn sàng quét", MODES[state.mode].label);
    focusCode();
  });

  // Context fields keep their values (not the PIN) across reloads.
  ["giver-input", "courier-input", "clerk-input", "addressee-input", "reason-input",
   "bag-courier-input", "seal-input", "vehicle-input",
   "bag-input", "destination-input", "expected-input"].forEach(function (id) {
    var input = $(id);
    input.value = localStorage.getItem(KEY + id) || "";
    input.addEventListener("change", function () {
      localStorage.setItem(KEY + id, input.value.trim());
      renderCount();
    });
  });
  el.context.addEventListener("keydown", function (ev) {
    if (ev.key === "Enter" && ev.target.classList.contains("ctx-input")) {
      ev.preventDefault();
      ev.target.dispatchEvent(new Event("change"));
      if (ev.target === el.bag) loadBag();
      focusCode();
    }
  });
  el.bag.addEventListener("change", function () { state.bagCount = null; renderCount(); });

  // The giver's PIN or badge is his own: another giver identifies again.
  state.giverOf = el.giver.value.trim().toLowerCase();
  el.giver.addEventListener("change", function () {
    var who = el.giver.value.trim().toLowerCase();
    if (who !== state.giverOf) clearGiver();
    state.giverOf = who;
  });

  function clearGiver() {
    state.giverBadge = null;
    el.giverPin.value = "";
    el.giverBadgeState.textContent = "Chưa quét thẻ";
    el.giverBadgeState.className = "pill pill-muted";
  }

  function giverIdentified() {
    return !!(state.giverBadge || el.giverPin.value.trim());
  }

  function endBatch() {
    state.batch = [];
    state.badge = null;
    state.bagCount = null;
    el.pin.value = "";
    el.badgeState.textContent = "Chưa quét thẻ";
    el.badgeState.className = "pill pill-muted";
    clearGiver();
    renderCount();
  }

  el.endBatch.addEventListener("click", function () {
    var c = renderCount();
    endBatch();
    el.recent.textContent = "";
    show("idle", "Đã kết thúc lượt", c.count + " bưu gửi" +
         (c.expected ? " / " + c.expected + " theo bảng kê" : ""));
    focusCode();
  });

  // The code field keeps the focus: whatever else was clicked, the next scan lands here.
  function focusCode() {
    if (!el.work.hidden && el.camera.hidden) el.code.focus();
  }
  el.code.addEventListener("blur", function () {
    setTimeout(function () {
      var a = document.activeElement;
      var typing = a && a !== el.code && /^(INPUT|SELECT|TEXTAREA)$/.test(a.tagName);
      if (!typing) focusCode();
    }, 0);
  });
  document.addEventListener("click", function (ev) {
    if (!/^(INPUT|SELECT|TEXTAREA|LABEL|OPTION)$/.test(ev.target.tagName)) focusCode();
  });

  // Every other field gives the focus back once used: Enter in it (above), or leaving it
  // with a value (a PIN typed, a name chosen) brings the next scan to the code field.
  el.context.addEventListener("change", function (ev) {
    if (ev.target.classList && ev.target.classList.contains("ctx-input")) {
      setTimeout(function () {
        var a = document.activeElement;
        if (!a || a === document.body || !el.context.contains(a)) focusCode();
      }, 0);
    }
  });

  // A scanner's burst typed into ANY other field (the PIN box, a name, a button): keys at
  // scanner speed ending in Enter or Tab are a scan. It is taken out of that field (which
  // gets back what it held before the burst) and recorded as a scan, never dropped.
  var wedge = {target: null, keys: [], before: "", timer: new KT1Input.KeyTimer(35, 4),
               last: 0};
  function wedgeReset() {
    wedge.target = null; wedge.keys = []; wedge.before = ""; wedge.timer.reset();
  }
  document.addEventListener("keydown", function (ev) {
    var t = ev.target;
    if (t === el.code || el.work.hidden || !el.camera.hidden) return;
    var now = ev.timeStamp || performance.now();
    var input = t && /^(INPUT|TEXTAREA)$/.test(t.tagName);
    if (ev.key === "Enter" || ev.key === "Tab") {
      var fast = wedge.target === t && wedge.timer.isScanner() && now - wedge.last < 120;
      if (fast) {
        ev.preventDefault();
        ev.stopPropagation();
        var code = wedge.keys.join("");
        if (input) t.value = wedge.before;
        wedgeReset();
        focusCode();
        handleCode(code, "scanner");
      } else {
        wedgeReset();
      }
      return;
    }
    if (!ev.key || ev.key.length !== 1 || ev.ctrlKey || ev.metaKey || ev.altKey) return;
    if (wedge.target !== t || now - wedge.last > 100) {
      // a new run of keys starts here: what the field held before it comes back if the
      // run turns out to be a scan
      wedgeReset();
      wedge.target = t;
      wedge.before = input ? t.value : "";
    }
    wedge.keys.push(ev.key);
    wedge.timer.key(now);
    wedge.last = now;
  }, true);

  // Scanner or keyboard: a scan ends at Enter or Tab; the key timing tells which it was.
  var timer = new KT1Input.KeyTimer(35, 4);
  var pasted = false;
  el.code.addEventListener("keydown", function (ev) {
    if (ev.key === "Enter" || ev.key === "Tab") {
      ev.preventDefault();
      finishEntry();
      return;
    }
    if (el.code.value === "") { timer.reset(); pasted = false; }
    if (ev.key && ev.key.length === 1) timer.key(ev.timeStamp || performance.now());
  });
  el.code.addEventListener("input", function (ev) {
    if (ev.inputType === "insertFromPaste") pasted = true;
    // a scanner that sends CR/LF inside the data (some do, as a paste): finish there
    if (/[\r\n]/.test(el.code.value)) finishEntry();
  });
  el.scanForm.addEventListener("submit", function (ev) {
    ev.preventDefault();
    finishEntry();
  });

  function finishEntry() {
    var raw = el.code.value;
    var source = pasted ? "keyboard" : (timer.isScanner() ? "scanner" : "keyboard");
    el.code.value = "";
    timer.reset();
    pasted = false;
    handleCode(raw, source);
  }

  /**
   * A second scan of an envelope already received at this stage (the server wrote nothing
   * and says so with ``already_received``; a bag scan, ``envelope_in_bag`` naming this very
   * bag): not a refusal, the envelope is where it should be. Returns the words, or null.
   */
  function alreadyOf(item, data) {
    var slug = data && data.error;
    var errors = (data && data.errors) || {};
    if (slug === "already_received") {
      var who = errors.holder;
      // accepting and registering, the receiver is the operator himself
      var mine = who ? who === state.operator
                     : (item.mode === "accepted" || item.mode === "registered_incoming");
      return {title: "Đã nhận rồi: " + item.number,
              detail: (mine ? "Bạn đã nhận bưu gửi này từ trước"
                            : "Bưu gửi này đã ở chỗ " + (who || "người nhận") + " từ trước") +
                      " (" + item.label + "). Không ghi thêm gì."};
    }
    if (slug === "envelope_in_bag" && item.mode === "bagged" && errors.bag &&
        errors.bag === KT1Input.clean(item.path.split("/")[2] || "")) {
      return {title: "Đã có trong túi: " + item.number,
              detail: "Bưu gửi này đã ở trong túi " + errors.bag + ". Không ghi thêm gì."};
    }
    return null;
  }

  function refuse(number, message, scanId) {
    beep("refused");
    show("refused", "Từ chối: " + (number || ""), message);
    addRecent({scan_id: scanId, number: number || "—", label: MODES[state.mode].label,
               state: "refused", message: message});
  }

  function handleCode(raw, source) {
    var code = KT1Input.clean(raw);
    if (!code) return;
    if (!state.token || !state.operator) {
      refuse(code, "Chưa cài đặt mã truy cập hoặc người thao tác.");
      return;
    }
    var kind = KT1Input.classify(code);
    var mode = state.mode;
    if (kind === "badge") {
      if (!MODES[mode].receipt) {
        refuse("Thẻ nhân viên", "Thao tác này không cần ký nhận bằng thẻ.");
        return;
      }
      // Accepting at the counter, both sides identify: the first badge of the batch is the
      // giver's (unless he typed his PIN), the next one the operator's own receipt.
      if (mode === "accepted" && !giverIdentified()) {
        state.giverBadge = code;
        el.giverBadgeState.textContent = "Đã quét thẻ ✓";
        el.giverBadgeState.className = "pill pill-online";
        beep("ok");
        show("ok", "Đã nhận thẻ nhân viên của người giao",
             "Người giao đã xác nhận cho các bưu gửi tiếp theo của lượt này.");
        return;
      }
      if (mode === "accepted" && receipt()) {
        refuse("Thẻ nhân viên", "Người giao đã xác nhận và bạn đã ký nhận. Người giao " +
               "khác: nhập người giao mới (hoặc bấm \"Kết thúc lượt\") rồi quét thẻ.");
        return;
      }
      state.badge = code;
      el.badgeState.textContent = "Đã quét thẻ ✓";
      el.badgeState.className = "pill pill-online";
      beep("ok");
      show("ok", "Đã nhận thẻ nhân viên", "Ký nhận cho các bưu gửi tiếp theo của lượt này.");
      return;
    }
    if (kind === "bag" && MODES[mode].bag) {
      el.bag.value = code;
      el.bag.dispatchEvent(new Event("change"));
      state.opened = [];
      renderOpened();
      loadBag();
      return;
    }
    if (MODES[mode].bag) {
      if (KT1Input.s10Problem(code, LETTERS, COUNTRY) || MODES[mode].bag !== "open") {
        refuse(code, MODES[mode].bag === "open"
          ? KT1Input.s10Problem(code, LETTERS, COUNTRY).message_vi
          : "Thao tác này dùng nhãn túi: quét nhãn túi rồi bấm \"" + MODES[mode].action + "\".");
        return;
      }
      if (state.opened.indexOf(code) >= 0) {
        beep("already");
        show("already", "Đã đọc rồi: " + code, "Bưu gửi này đã có trong danh sách mở túi.");
        return;
      }
      state.opened.push(code);
      renderOpened();
      beep("ok");
      show("ok", "Đã đọc: " + code, state.opened.length + " bưu gửi đã đọc; đọc hết rồi bấm \"" +
           MODES[mode].action + "\".");
      return;
    }
    if (kind === "bag") {
      if (mode !== "bagged") {
        refuse(code, "Đây là nhãn túi; chọn \"Đóng túi\" để đóng túi này.");
        return;
      }
      el.bag.value = code;
      el.bag.dispatchEvent(new Event("change"));
      loadBag();
      return;
    }
    var problem = KT1Input.s10Problem(code, LETTERS, COUNTRY);
    if (problem) {
      refuse(code, problem.message_vi);
      return;
    }
    var item;
    try {
      item = buildScan(mode, code, source);
    } catch (missing) {
      refuse(code, missing.message);
      return;
    }
    submit(item);
  }

  function receipt() {
    if (state.badge) return {method: "badge", secret: state.badge};
    var pin = el.pin.value.trim();
    if (pin) return {method: "pin", secret: pin};
    return null;
  }

  /** The giver's identification ("accepted"): his badge or PIN, sent as giver_receipt. */
  function giverReceipt(who) {
    if (state.giverBadge) return {username: who, method: "badge", secret: state.giverBadge};
    var pin = el.giverPin.value.trim();
    if (pin) return {username: who, method: "pin", secret: pin};
    return null;
  }

  function Missing(message) { this.message = message; }

  function buildScan(mode, number, source) {
    var spec = MODES[mode];
    var scanId = KT1Input.uuid();
    var at = KT1Input.deviceTime();
    var b = {scan_id: scanId, operator: state.operator, number: number, event_at: at};
    var path = "/handoffs";
    if (mode === "bagged") {
      var bag = KT1Input.clean(el.bag.value);
      if (!bag) throw new Missing("Chưa chọn túi: quét nhãn túi, nhập số túi hoặc mở túi mới.");
      path = "/bags/" + encodeURIComponent(bag) + "/envelopes";
    } else {
      b.kind = mode;
      if (spec.party) {
        var who = $(spec.party).value.trim().toLowerCase();
        if (!who) throw new Missing(PARTY_MISSING[spec.party]);
        // Custody moves only with both sides present: the giver identifies too. (A courier
        // delivering, or a counter clerk handing to a courier, is the giver himself.)
        var g = mode === "accepted" ? giverReceipt(who) : null;
        if (mode === "accepted" && !g) {
          throw new Missing("Người giao chưa xác nhận: văn thư cơ quan gửi nhập mã PIN " +
                            "hoặc quét thẻ nhân viên.");
        }
        var r = receipt();
        if (!r) throw new Missing("Người nhận chưa ký nhận: nhập PIN hoặc quét thẻ nhân viên.");
        if (mode === "accepted") {
          b.giver = who;
          b.receiver = state.operator;
          b.giver_receipt = g;  // kept (with its secret) only until sent, like the receipt
        } else {
          b.giver = state.operator;
          b.receiver = who;
        }
        b.receipt = r;
      }
      if (spec.reason) {
        var reason = $(spec.reason).value;
        if (!reason) throw new Missing("Chưa chọn lý do phát không thành công.");
        b.reason = reason;
      }
      if (source === "keyboard") b.note = "nhập tay";
    }
    return {scan_id: scanId, path: path, body: b, number: number, mode: mode,
            label: spec.label, source: source, queued_at: at};
  }

  function succeeded(item, r) {
    var replay = r.status === 200;
    var env = r.data && r.data.envelope;
    var bag = r.data && r.data.bag;
    if (bag && typeof bag.count === "number" && item.mode === "bagged") state.bagCount = bag.count;
    var detail = [item.label];
    if (env) {
      if (env.letter) detail.push("dấu " + env.letter);
      detail.push("gửi " + env.recipient.unit);
    }
    if (bag) detail.push("túi " + bag.number + ": " + bag.count + " bưu gửi");
    if (replay) detail.push("đã ghi nhận từ trước");
    return {title: (replay ? "Đã ghi nhận (trước đó): " : "Đã ghi nhận: ") + item.number,
            detail: detail.join(" · "), warning: warningOf(r.data)};
  }

  /** The server's warnings beside a recorded scan (``label_never_printed``), or null. */
  function warningOf(data) {
    var list = (data && data.warnings) || [];
    if (!list.length) return null;
    return {codes: list.map(function (w) { return w.code; }).join(" "),
            text: "⚠ " + list.map(function (w) { return w.message_vi; }).join(" ")};
  }

  function submit(item) {
    var entry = {scan_id: item.scan_id, number: item.number, label: item.label,
                 source: item.source, state: "sending"};
    state.batch.push(entry);
    if (state.pending > 0 || !state.online || navigator.onLine === false) {
      enqueue(item, entry);
      return;
    }
    api("POST", item.path, item.body).then(function (r) {
      if (r.status === 200 || r.status === 201) {
        var s = succeeded(item, r);
        entry.state = "ok";
        beep("ok");
        show(r.status === 200 ? "replay" : "ok", s.title, s.detail, s.warning);
        addRecent({scan_id: item.scan_id, number: item.number, label: item.label,
                   source: item.source, state: "ok",
                   message: s.detail + (s.warning ? " · " + s.warning.text : "")});
        renderCount();
      } else if (r.status >= 500) {
        enqueue(item, entry);
      } else if (alreadyOf(item, r.data)) {
        var a = alreadyOf(item, r.data);
        entry.state = "already";
        beep("already");
        show("already", a.title, a.detail);
        addRecent({scan_id: item.scan_id, number: item.number, label: item.label,
                   source: item.source, state: "already", message: a.detail});
        renderCount();
      } else {
        entry.state = "refused";
        renderCount();
        var slug = r.data && r.data.error;
        if (item.mode === "accepted" && slug === "giver_identification_invalid") {
          clearGiver();  // a wrong PIN or badge is not kept for the next envelopes
        }
        refuse(item.number, refusalOf(item, r.data, r.status), item.scan_id);
      }
    }, function () {
      setOnline(false);
      enqueue(item, entry);
    });
  }

  function enqueue(item, entry) {
    entry.state = "queued";
    KT1Queue.add(item).then(refreshPending).then(function (n) {
      beep("queued");
      show("queued", "Đã lưu, chờ gửi: " + item.number,
           "Chưa gửi được lên máy chủ; sẽ tự gửi khi có mạng (" + n + " lượt đang chờ).");
      addRecent({scan_id: item.scan_id, number: item.number, label: item.label,
                 source: item.source, state: "queued", message: "chờ gửi"});
      renderCount();
      scheduleSync(300);
    }, function (err) {
      entry.state = "refused";
      refuse(item.number, "Không lưu được lượt quét trên máy này: " + err);
    });
  }

  // ------------------------------------------------------------------ bags

  function loadBag() {
    var bag = KT1Input.clean(el.bag.value);
    if (!bag) return;
    el.bag.value = bag;
    api("GET", "/bags/" + encodeURIComponent(bag)).then(function (r) {
      if (r.status === 200) {
        state.bagCount = r.data.count;
        renderCount();
        beep("ok");
        show("ok", "Túi " + r.data.number, "Đến " + r.data.destination + " · " +
             r.data.count + " bưu gửi · " + r.data.status);
      } else {
        refuse(bag, reasonOf(r.data, r.status));
      }
    }, function () {
      setOnline(false);
      show("queued", "Túi " + bag, "Mất kết nối: chưa xem được số bưu gửi trong túi.");
    });
  }

  // ------------------------------------------------------------------ bag actions

  state.opened = [];
  function renderOpened() {
    el.openedList.textContent = state.opened.join(" · ");
    el.openedCount.textContent = String(state.opened.length);
  }

  function bagSignature(input) {
    if (input === el.pin && state.badge) return {method: "badge", secret: state.badge};
    var v = input.value.trim();
    return v ? {method: "pin", secret: v} : null;
  }

  function bagAction() {
    var mode = state.mode;
    var spec = MODES[mode];
    var bag = KT1Input.clean(el.bag.value);
    if (!bag) { refuse("Túi", "Chưa chọn túi: quét nhãn túi hoặc nhập số túi."); return; }
    var b = {scan_id: KT1Input.uuid(), operator: state.operator,
             event_at: KT1Input.deviceTime()};
    var courier = el.bagCourier.value.trim().toLowerCase();
    var seal = el.sealInput.value.trim();
    var path = "/bags/" + encodeURIComponent(bag) + "/";
    if (spec.bag === "seal") {
      if (!seal) { refuse(bag, "Nhập số niêm phong (kẹp chì) của túi."); return; }
      path += "seal";
      b.seal_number = seal;
    } else if (spec.bag === "dispatch") {
      var vehicle = el.vehicle.value.trim();
      var r = bagSignature(el.pin);
      if (!courier) { refuse(bag, "Chưa nhập bưu tá nhận túi."); return; }
      if (!vehicle) { refuse(bag, "Chưa nhập phương tiện (biển số xe)."); return; }
      if (!r) { refuse(bag, "Bưu tá chưa ký nhận: nhập PIN hoặc quét thẻ nhân viên."); return; }
      path += "dispatch";
      b.courier = courier;
      b.receipt = r;
      b.vehicle = vehicle;
      b.is_dedicated_vehicle = el.dedicated.checked;
    } else if (spec.bag === "receive") {
      var mine = bagSignature(el.pin);
      var theirs = bagSignature(el.courierPin);
      if (!courier) { refuse(bag, "Chưa nhập bưu tá giao túi."); return; }
      if (!seal) { refuse(bag, "Nhập số niêm phong đọc trên túi."); return; }
      if (!theirs) { refuse(bag, "Bưu tá giao túi chưa xác nhận: nhập PIN của bưu tá."); return; }
      if (!mine) { refuse(bag, "Bạn chưa ký nhận: nhập PIN hoặc quét thẻ nhân viên."); return; }
      path += "receive";
      b.courier = courier;
      b.seal_number = seal;
      b.seal_state = el.sealState.value || "intact";
      b.receipt = mine;
      b.courier_receipt = theirs;
      if (el.report.value.trim()) b.incident_report = el.report.value.trim();
    } else {
      path += "open";
      b.numbers = state.opened.slice();
    }
    api("POST", path, b).then(function (r) {
      if (r.status === 200 || r.status === 201) {
        var bagOut = r.data.bag;
        var detail = [spec.label, "đến " + bagOut.destination, bagOut.count + " bưu gửi"];
        var kind = "ok";
        if (r.data.missing && r.data.missing.length) {
          detail.push("THIẾU: " + r.data.missing.join(", "));
          kind = "refused";
        }
        if (r.data.extra && r.data.extra.length) {
          detail.push("THỪA: " + r.data.extra.join(", "));
          kind = "refused";
        }
        if (r.data.incident_id) detail.push("đã mở sự cố số " + r.data.incident_id);
        beep(kind);
        show(kind, (kind === "ok" ? "Đã ghi nhận: túi " : "Có sai lệch: túi ") + bagOut.number,
             detail.join(" · "));
        addRecent({scan_id: b.scan_id, number: bagOut.number, label: spec.label,
                   state: kind === "ok" ? "ok" : "refused", message: detail.join(" · ")});
        if (spec.bag === "open") { state.opened = []; renderOpened(); }
        el.pin.value = "";
        el.courierPin.value = "";
        state.badge = null;
      } else {
        refuse(bag, reasonOf(r.data, r.status), b.scan_id);
      }
    }, function () {
      setOnline(false);
      refuse(bag, "Cần kết nối máy chủ cho thao tác túi; thử lại khi có mạng.");
    }).then(focusCode);
  }
  el.bagAction.addEventListener("click", bagAction);

  el.newBag.addEventListener("click", function () {
    var dest = KT1Input.clean(el.destination.value);
    if (!dest) {
      refuse("Túi mới", "Nhập mã bưu cục đến (ví dụ BC-HCM) rồi mở túi.");
      return;
    }
    localStorage.setItem(KEY + "destination-input", dest);
    api("POST", "/bags", {scan_id: KT1Input.uuid(), operator: state.operator,
                          destination: dest}).then(function (r) {
      if (r.status === 200 || r.status === 201) {
        el.bag.value = r.data.bag.number;
        el.bag.dispatchEvent(new Event("change"));
        state.batch = [];
        state.bagCount = r.data.bag.count;
        renderCount();
        beep("ok");
        show("ok", "Đã mở túi " + r.data.bag.number, "Đến " + r.data.bag.destination);
      } else {
        refuse("Túi mới", reasonOf(r.data, r.status));
      }
    }, function () {
      setOnline(false);
      refuse("Túi mới", "Cần kết nối máy chủ để mở túi mới (số túi do máy chủ cấp).");
    }).then(focusCode);
  });

  // ------------------------------------------------------------------ offline sync

  var syncTimer = null;
  function scheduleSync(ms) {
    if (syncTimer) clearTimeout(syncTimer);
    syncTimer = setTimeout(function () { syncTimer = null; sync(); }, ms);
  }

  function settle(item, status, data) {
    if (status === 200 || status === 201) {
      var s = succeeded(item, {status: status, data: data});
      updateRecent(item.scan_id, "ok", (status === 200 ? "đã gửi (trùng, không ghi lại)"
                                                       : "đã gửi") + " · " + s.detail +
                   (s.warning ? " · " + s.warning.text : ""));
      state.batch.forEach(function (b) { if (b.scan_id === item.scan_id) b.state = "ok"; });
      return "ok";
    }
    var already = alreadyOf(item, data);
    if (already) {
      updateRecent(item.scan_id, "already", already.detail);
      state.batch.forEach(function (b) { if (b.scan_id === item.scan_id) b.state = "already"; });
      return "already";
    }
    var reason = refusalOf(item, data, status);
    updateRecent(item.scan_id, "refused", reason);
    state.batch.forEach(function (b) { if (b.scan_id === item.scan_id) b.state = "refused"; });
    refusedOnSync.push(item.number + ": " + reason);
    return "refused";
  }

  var refusedOnSync = [];

  /** Send the queue in order: runs of handoffs as batches, bag scans one by one. */
  function sync() {
    if (state.syncing || !state.token) return Promise.resolve();
    state.syncing = true;
    var sent = 0;
    refusedOnSync = [];

    function step() {
      return KT1Queue.all().then(function (items) {
        if (!items.length) return null;
        var run = [];
        if (items[0].path === "/handoffs") {
          for (var i = 0; i < items.length && run.length < BATCH_MAX; i++) {
            if (items[i].path !== "/handoffs") break;
            run.push(items[i]);
          }
          return api("POST", "/handoffs/batch",
                     {items: run.map(function (x) { return x.body; })}).then(function (r) {
            if (r.status !== 200 || !r.data || !r.data.results) {
              throw {fatal: true, status: r.status, data: r.data};
            }
            var done = [], unavailable = false;
            r.data.results.forEach(function (res) {
              var item = run[res.index];
              if (!item) return;
              // 503 (database_unavailable, not_attempted): nothing of it was written and
              // the batch stopped; it stays queued and is sent again later
              if (res.status === 503) { unavailable = true; return; }
              settle(item, res.status, res.status < 300 ? res.result : res.error);
              done.push(item.seq);
            });
            sent += done.length;
            return KT1Queue.remove(done).then(function () {
              if (unavailable) throw new NetworkError("HTTP 503");
              return step();
            });
          });
        }
        var one = items[0];
        return api("POST", one.path, one.body).then(function (r) {
          if (r.status >= 500) throw {fatal: true, status: r.status, data: r.data};
          if (r.status === 401) throw {fatal: true, status: r.status, data: r.data};
          settle(one, r.status, r.data);
          sent += 1;
          return KT1Queue.remove([one.seq]).then(step);
        });
      });
    }

    return step().then(function () {
      setOnline(true);
      if (sent) {
        if (refusedOnSync.length) {
          beep("refused");
          show("refused", "Đã gửi " + sent + " lượt chờ; " + refusedOnSync.length +
               " bị từ chối", refusedOnSync.join(" — "));
        } else {
          beep("ok");
          show("ok", "Đã gửi " + sent + " lượt quét chờ", "Không lượt nào bị ghi trùng.");
        }
      }
    }, function (err) {
      if (err instanceof NetworkError) {
        setOnline(false);
      } else if (err && err.fatal) {
        show("refused", "Chưa gửi được các lượt chờ", reasonOf(err.data, err.status));
      }
      scheduleSync(5000);
    }).then(function () {
      state.syncing = false;
      renderCount();
      return refreshPending();
    }).then(function (n) {
      if (n > 0 && state.online) scheduleSync(1000);
    });
  }

  el.syncBtn.addEventListener("click", function () { sync(); focusCode(); });
  window.addEventListener("online", function () { setOnline(true); sync(); });
  window.addEventListener("offline", function () { setOnline(false); });
  setInterval(function () { if (state.pending > 0) sync(); }, 15000);

  // ------------------------------------------------------------------ camera

  var reader = null;
  var lastCamera = {code: "", at: 0};

  function loadDecoder() {
    if (window.ZXing) return Promise.resolve(window.ZXing);
    return new Promise(function (resolve, reject) {
      var s = document.createElement("script");
      s.src = body.getAttribute("data-decoder");
      s.onload = function () { resolve(window.ZXing); };
      s.onerror = function () { reject(new Error("decoder")); };
      document.head.appendChild(s);
    });
  }

  function openCamera() {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      refuse("Camera", "Trình duyệt không cho dùng camera (cần HTTPS hoặc localhost).");
      return;
    }
    el.camera.hidden = false;
    el.cameraMessage.removeAttribute("data-state");
    el.cameraMessage.textContent = "Đang mở camera…";
    loadDecoder().then(function (ZXing) {
      var hints = new Map();
      hints.set(ZXing.DecodeHintType.POSSIBLE_FORMATS, [
        ZXing.BarcodeFormat.CODE_128, ZXing.BarcodeFormat.QR_CODE, ZXing.BarcodeFormat.CODE_39]);
      reader = new ZXing.BrowserMultiFormatReader(hints, 150);
      el.cameraMessage.textContent = "Đưa mã vạch vào khung hình";
      return reader.decodeFromConstraints(
        {video: {facingMode: "environment"}}, el.video, function (result) {
          if (!result) return;
          var text = result.getText();
          var now = Date.now();
          if (text === lastCamera.code && now - lastCamera.at < 3000) return;
          lastCamera = {code: text, at: now};
          var enrolment = tokenFrom(text);
          if (enrolment !== null || !el.setup.hidden) {
            closeCamera();
            if (enrolment) {
              el.tokenInput.value = "";
              enrol(enrolment);
            } else {
              el.setupMessage.textContent = "Đây không phải mã QR thiết bị (trang Quản trị › " +
                "Thiết bị quét hiện mã này một lần khi cấp thiết bị).";
            }
            return;
          }
          handleCode(text, "camera");
        });
    }).catch(function (err) {
      closeCamera();
      refuse("Camera", "Không mở được camera: " + (err && (err.name || err.message) || err));
    });
  }

  function closeCamera() {
    if (reader) { try { reader.reset(); } catch (e) { /* already stopped */ } }
    reader = null;
    el.camera.hidden = true;
    focusCode();
  }

  el.cameraBtn.addEventListener("click", openCamera);
  el.enrolCamera.addEventListener("click", openCamera);
  el.cameraClose.addEventListener("click", closeCamera);

  // ------------------------------------------------------------------ start

  if ("serviceWorker" in navigator && window.isSecureContext) {
    navigator.serviceWorker.register(body.getAttribute("data-sw"), {scope: "./"})
      .catch(function () { /* the page still works online without it */ });
  }

  setOnline(navigator.onLine !== false);
  showDevice();
  if (state.token && state.operator) {
    showWork();
    loadDevice().catch(function (r) {
      if (r && r.status === 401) showSetup(reasonOf(r.data, r.status));
    });
  } else {
    showSetup();
  }
  // Scans still waiting from before a reload: back in the list (and the count) until sent.
  KT1Queue.all().then(function (items) {
    items.forEach(function (item) {
      if (item.mode === state.mode) {
        state.batch.push({scan_id: item.scan_id, number: item.number, label: item.label,
                          source: item.source, state: "queued"});
      }
      addRecent({scan_id: item.scan_id, number: item.number, label: item.label,
                 source: item.source, state: "queued", message: "chờ gửi"});
    });
    renderCount();
    return refreshPending();
  }).then(function (n) { if (n > 0) sync(); });
  body.setAttribute("data-ready", "1");
})();
