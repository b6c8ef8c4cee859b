// KT1 scan page: the offline queue. Scans the server could not be reached for wait here,
// in IndexedDB, in the order they were taken, each with its scan id and device time, until
// they are sent. A reload keeps them; sending one twice is harmless because the server
// answers a replayed scan id with the stored result (200) and writes nothing.
(function (global) {
  "use strict";

  var DB_NAME = "kt1-scan";
  var STORE = "queue";
  var dbPromise = null;

  function open() {
    if (dbPromise) return dbPromise;
    dbPromise = new Promise(function (resolve, reject) {
      var req = global.indexedDB.open(DB_NAME, 1);
      req.onupgradeneeded = function () {
        var db = req.result;
        if (!db.objectStoreNames.contains(STORE)) {
          // ``seq`` orders the queue; ``scan_id`` is unique, so a scan is queued once.
          var store = db.createObjectStore(STORE, {keyPath: "seq", autoIncrement: true});
          store.createIndex("scan_id", "scan_id", {unique: true});
        }
      };
      req.onsuccess = function () { resolve(req.result); };
      req.onerror = function () { reject(req.error); };
    });
    return dbPromise;
  }

  function tx(mode, work) {
    return open().then(function (db) {
      return new Promise(function (resolve, reject) {
        var t = db.transaction(STORE, mode);
        var store = t.objectStore(STORE);
        var out = work(store);
        t.oncomplete = function () { resolve(out && "result" in out ? out.result : out); };
        t.onerror = function () { reject(t.error); };
        t.onabort = function () { reject(t.error); };
      });
    });
  }

  /**
   * Queue one scan: {scan_id, path, body, number, label, queued_at}. A scan id already
   * queued is left as it is (the first copy keeps its place in the order).
   */
  function add(item) {
    return tx("readwrite", function (store) {
      var idx = store.index("scan_id");
      var probe = idx.getKey(item.scan_id);
      probe.onsuccess = function () {
        if (probe.result === undefined) store.add(item);
      };
      return null;
    });
  }

  /** Every queued scan, oldest first. */
  function all() {
    return tx("readonly", function (store) { return store.getAll(); });
  }

  function count() {
    return tx("readonly", function (store) { return store.count(); });
  }

  /** Remove the scans with these ``seq`` keys (sent: accepted, replayed or refused). */
  function remove(seqs) {
    return tx("readwrite", function (store) {
      seqs.forEach(function (seq) { store.delete(seq); });
      return null;
    });
  }

  global.KT1Queue = {add: add, all: all, count: count, remove: remove};
})(window);
