// KT1 scan page: what a scan is. Cleaning scanner input, telling a scanner from typing,
// recognising item numbers, badges and bag labels, and the S10 check digit (docs/domain.md §6),
// so that a scan taken offline is refused at once when its number cannot be right.
(function (global) {
  "use strict";

  // C0 and C1 controls (a scanner's STX/ETX/GS/CR/LF), DEL, zero-width and BOM characters.
  var CONTROL = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028\u2029\u2060\ufeff]/g;
  // An AIM symbology identifier some scanners put in front of the data ("]C0", "]Q1").
  var AIM_PREFIX = /^\][A-Za-z][0-9A-Za-z]/;
  var BADGE = /^B(?:[0-9A-F]{24}|[0-9]{20})$/;
  var BAG = /^[A-Z0-9][A-Z0-9_.-]*-\d{6}-\d{3}$/;
  var WEIGHTS = [8, 6, 4, 2, 3, 5, 9, 7];

  /** Scanner input as a code: controls, AIM prefix and spaces gone, upper case. */
  function clean(raw) {
    var text = String(raw == null ? "" : raw).replace(CONTROL, "");
    text = text.trim().replace(AIM_PREFIX, "");
    return text.replace(/\s+/g, "").toUpperCase();
  }

  /** The S10 check digit of an 8-digit serial (weights 8 6 4 2 3 5 9 7; 10 -> 0, 11 -> 5). */
  function s10CheckDigit(serial) {
    var sum = 0;
    for (var i = 0; i < 8; i++) sum += WEIGHTS[i] * (serial.charCodeAt(i) - 48);
    var c = 11 - (sum % 11);
    return c === 10 ? 0 : (c === 11 ? 5 : c);
  }

  /**
   * Why ``code`` cannot be a KT1 item number, as {error, message_vi}, or null when it can.
   * The same slugs and Vietnamese messages as the server (kt1/errors.py).
   */
  function s10Problem(code, letters, country) {
    if (code.length !== 13) {
      return {error: "number_length_invalid",
              message_vi: "Số hiệu phải có 13 ký tự (đã nhận " + code.length + ")."};
    }
    if (letters && code.slice(0, 2) !== letters) {
      return {error: "number_letters_invalid",
              message_vi: "Hai chữ cái đầu của số hiệu không phải " + letters + "."};
    }
    if (country && code.slice(11) !== country) {
      return {error: "number_country_invalid",
              message_vi: "Mã nước của số hiệu phải là " + country + "."};
    }
    var digits = code.slice(2, 11);
    if (!/^\d{9}$/.test(digits)) {
      return {error: "number_serial_invalid",
              message_vi: "Phần số của số hiệu phải gồm 9 chữ số."};
    }
    if (s10CheckDigit(digits.slice(0, 8)) !== digits.charCodeAt(8) - 48) {
      return {error: "check_digit_invalid",
              message_vi: "Sai số kiểm tra: số hiệu " + code +
                          " không hợp lệ (kiểm tra lại mã vạch)."};
    }
    return null;
  }

  /** What a cleaned code is: a staff badge, a bag label, or (anything else) an item number. */
  function classify(code) {
    if (BADGE.test(code)) return "badge";
    if (BAG.test(code)) return "bag";
    return "envelope";
  }

  /**
   * Tells a keyboard-wedge scanner from a person typing, by the time between keys: a
   * scanner sends a whole code in a burst (a few ms a key), a person takes 100 ms or more.
   */
  function KeyTimer(thresholdMs, minLength) {
    this.threshold = thresholdMs || 35;
    this.minLength = minLength || 4;
    this.reset();
  }
  KeyTimer.prototype.reset = function () {
    this.times = [];
  };
  KeyTimer.prototype.key = function (when) {
    this.times.push(when);
  };
  /** True when the keys of the current entry came at scanner speed. */
  KeyTimer.prototype.isScanner = function () {
    var t = this.times;
    if (t.length < this.minLength) return false;
    var gaps = [];
    for (var i = 1; i < t.length; i++) gaps.push(t[i] - t[i - 1]);
    gaps.sort(function (a, b) { return a - b; });
    // the median gap, so that one slow key (a scanner's buffer hiccup) does not decide
    return gaps[Math.floor(gaps.length / 2)] < this.threshold;
  };

  /** A random UUID v4: crypto.randomUUID where the context is secure, else from bytes. */
  function uuid() {
    var c = global.crypto;
    if (c && typeof c.randomUUID === "function") return c.randomUUID();
    var b = new Uint8Array(16);
    c.getRandomValues(b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    var h = [];
    for (var i = 0; i < 16; i++) h.push((b[i] + 0x100).toString(16).slice(1));
    return h.slice(0, 4).join("") + "-" + h.slice(4, 6).join("") + "-" +
      h.slice(6, 8).join("") + "-" + h.slice(8, 10).join("") + "-" + h.slice(10).join("");
  }

  /** Device time with its UTC offset, e.g. 2026-11-23T09:15:02.120+07:00. */
  function deviceTime(date) {
    var d = date || new Date();
    var off = -d.getTimezoneOffset();
    var sign = off >= 0 ? "+" : "-";
    var abs = Math.abs(off);
    function pad(n, w) { return String(n).padStart(w || 2, "0"); }
    return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + "T" +
      pad(d.getHours()) + ":" + pad(d.getMinutes()) + ":" + pad(d.getSeconds()) + "." +
      pad(d.getMilliseconds(), 3) + sign + pad(Math.floor(abs / 60)) + ":" + pad(abs % 60);
  }

  global.KT1Input = {
    clean: clean,
    classify: classify,
    s10CheckDigit: s10CheckDigit,
    s10Problem: s10Problem,
    KeyTimer: KeyTimer,
    uuid: uuid,
    deviceTime: deviceTime
  };
})(window);
