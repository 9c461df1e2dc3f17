// localweb.js: the page's side of package localweb, served at /localweb.js
// to the person's window and the helper's, before their own app.js. It
// holds what both windows do the same way: the WebSocket's address,
// uploads (POST /upload), sizes and paths in words, the chat transcript
// and the list of file transfers. It defines window.localweb and touches
// nothing else until called.
'use strict';

window.localweb = (function () {
  // ---- The server ----

  function token() { return new URLSearchParams(location.search).get('t'); }

  // wsURL returns the address of the page's WebSocket, with the token the
  // page was opened with.
  function wsURL() {
    const t = token();
    return (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/ws' +
      (t ? '?t=' + encodeURIComponent(t) : '');
  }

  // upload POSTs file to /upload, telling onProgress how far it got, and
  // returns the server's answer: {upload, name, size}.
  function upload(file, onProgress) {
    return new Promise((resolve, reject) => {
      const t = token();
      const xhr = new XMLHttpRequest();
      xhr.open('POST', '/upload?name=' + encodeURIComponent(file.name) + (t ? '&t=' + encodeURIComponent(t) : ''));
      xhr.setRequestHeader('Content-Type', 'application/octet-stream');
      xhr.responseType = 'json';
      xhr.upload.onprogress = (e) => { if (e.lengthComputable) onProgress(e.loaded, e.total); };
      xhr.onload = () => {
        const r = xhr.response || {};
        if (xhr.status === 200 && r.upload) resolve(r);
        else reject(new Error(r.error || 'gethelp refused the file (' + xhr.status + ')'));
      };
      xhr.onerror = () => reject(new Error('the file could not be read, or gethelp on this computer did not answer'));
      xhr.send(file);
    });
  }

  // ---- Words ----

  function sizeText(n) {
    if (n < 1000) return n + (n === 1 ? ' byte' : ' bytes');
    const units = ['KB', 'MB', 'GB', 'TB'];
    let v = n / 1000, i = 0;
    while (v >= 1000 && i < units.length - 1) { v /= 1000; i++; }
    return (v < 10 ? v.toFixed(1) : Math.round(v)) + ' ' + units[i];
  }

  // homePath shows a path under the home folder home as ~/…
  function homePath(p, home) {
    if (home && p && p.startsWith(home + '/')) return '~' + p.slice(home.length);
    return p || '';
  }

  // pathNode shows a path as homePath does, breakable after each slash.
  function pathNode(p, home) {
    const span = document.createElement('span');
    span.className = 'path';
    homePath(p, home).split('/').forEach((part, i, all) => {
      span.append(part + (i < all.length - 1 ? '/' : ''));
      if (i < all.length - 1) span.appendChild(document.createElement('wbr'));
    });
    return span;
  }

  // ---- Chat ----

  // chat draws a chat transcript in the list el, kept scrolled to the
  // newest line unless the reader scrolled up.
  function chat(el) {
    function append(li) {
      const empty = el.querySelector('.empty');
      if (empty) empty.remove();
      const atEnd = el.scrollTop + el.clientHeight >= el.scrollHeight - 8;
      el.appendChild(li);
      if (atEnd || li.classList.contains('self')) el.scrollTop = el.scrollHeight;
    }
    return {
      // empty says, until the first line, what will appear.
      empty(text) {
        const li = document.createElement('li');
        li.className = 'empty';
        li.textContent = text;
        el.appendChild(li);
      },
      // add shows the chat event m; peer names its author when m does not.
      add(m, peer) {
        const li = document.createElement('li');
        li.className = m.self ? 'self' : 'peer';
        const head = document.createElement('div');
        const name = document.createElement('span');
        name.className = 'who';
        name.textContent = m.self ? 'You' : (m.from || peer);
        const time = document.createElement('time');
        time.dateTime = m.time || '';
        time.textContent = (m.time ? new Date(m.time) : new Date()).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
        head.append(name, time);
        const text = document.createElement('div');
        text.className = 'text';
        text.textContent = m.text;
        li.append(head, text);
        append(li);
      },
      // note shows a line of the page's own, an error if isError.
      note(text, isError) {
        const li = document.createElement('li');
        li.className = 'note' + (isError ? ' error' : '');
        li.textContent = text;
        append(li);
      },
    };
  }

  // ---- File transfers ----

  // Accept stays disabled this long after an offer appears, so a click
  // meant for what was there before cannot answer it.
  const ACCEPT_DELAY = 1000;
  // The states of a transfer under way.
  const UNDER_WAY = ['offer', 'accepted', 'waiting', 'uploading', 'preparing', 'moving'];
  const MOVING = ['uploading', 'preparing', 'moving', 'waiting', 'accepted'];

  // transfers keeps the window's file transfers in all, a Map by offer ID
  // (or 'u:' + upload ID while the file is copied in): {id, name, size,
  // sha256, from, dir: 'in' or 'out', state, done, total, path, reason,
  // upload, shown}. state: offer, accepted, declined, uploading, preparing,
  // waiting, moving, done, failed. It applies the file events, answers
  // offers, uploads and sends the files the page chooses, and draws the
  // offers and the list. o, the window's:
  //   inbound: the direction of a file coming in, in events ('from_helper')
  //   send(cmd): sends a command, and returns whether it went
  //   changed(): shows the transfers again (and calls draw)
  //   offerList, transferList: the lists to draw the offers and the transfers in
  //   from(t): who offers t; hint: the words under an offer
  //   size(t): the words after a transfer's name (default: its size)
  //   status(t): the words under a transfer
  //   small: the offers' buttons are small
  //   home(): the home folder, shown as ~
  //   sendFailed(t, message): told of a file the page could not send (optional)
  function transfers(all, o) {
    function get(id, dir) {
      let t = all.get(id);
      if (!t) {
        t = { id: id, name: '', size: 0, dir: dir, state: 'waiting', done: 0, total: 0 };
        all.set(id, t);
      }
      return t;
    }

    // fresh starts the transfer id anew, at the top of the list (the same
    // file sent again has the same id).
    function fresh(id, dir) {
      all.delete(id);
      return get(id, dir);
    }

    function offered(m) {
      const t = fresh(m.id, 'in');
      // from: who offers it, if the event says (the host's events name the
      // helper, the viewer's the person).
      Object.assign(t, { name: m.name, size: m.size || 0, total: m.size || 0, done: 0, sha256: m.sha256 || '',
        from: m.helper || m.from || '', state: 'offer', shown: Date.now(), reason: '', path: '' });
      return t;
    }

    function queued(m) {
      all.delete('u:' + m.upload);
      const t = fresh(m.id, 'out');
      Object.assign(t, { name: m.name, size: m.size || 0, total: m.size || 0, upload: m.upload, state: 'waiting' });
      return t;
    }

    function progress(m) {
      const t = get(m.id, m.direction === o.inbound ? 'in' : 'out');
      t.name = m.name || t.name;
      t.total = m.total || t.total || 0;
      t.size = t.size || t.total;
      t.done = m.done || 0;
      t.state = t.dir === 'out' && !t.done ? 'waiting' : 'moving';
      t.reason = '';
      return t;
    }

    function done(m) {
      const t = get(m.id, m.type === 'file_received' ? 'in' : 'out');
      t.name = m.name || t.name;
      t.size = m.size || t.size;
      t.done = t.total = t.size;
      t.state = 'done';
      t.path = m.path || '';
      return t;
    }

    function failed(m) {
      const t = get(m.id, m.direction === o.inbound ? 'in' : 'out');
      t.name = m.name || t.name;
      t.reason = m.reason || 'it failed';
      t.state = m.reason === 'declined' ? 'declined' : 'failed';
      return t;
    }

    const apply = {
      file_offer: offered, file_queued: queued, file_progress: progress,
      file_received: done, file_sent: done, file_failed: failed,
    };

    // event applies the file event m, shows it, and returns its transfer.
    function event(m) {
      const t = apply[m.type](m);
      o.changed();
      return t;
    }

    // end marks what was under way when the session ended.
    function end() {
      for (const t of all.values()) {
        if (UNDER_WAY.includes(t.state)) {
          t.state = 'failed';
          t.reason = 'the session ended';
        }
      }
    }

    function answer(id, accept) {
      const t = all.get(id);
      if (!t || t.state !== 'offer') return;
      if (!o.send({ type: accept ? 'accept_file' : 'decline_file', id: id })) return;
      t.state = accept ? 'accepted' : 'declined';
      if (!accept) t.reason = 'declined';
      o.changed();
    }

    function sendFailed(t, message) {
      t.state = 'failed';
      t.reason = message;
      if (o.sendFailed) o.sendFailed(t, message);
      o.changed();
    }

    let uploads = 0;

    // send copies the file to gethelp on this computer (the browser does
    // not tell the page where it is), then has it sent.
    async function send(file) {
      const key = 'u:' + (++uploads) + ':local';
      const t = get(key, 'out');
      Object.assign(t, { name: file.name, size: file.size, total: file.size, state: 'uploading' });
      o.changed();
      let r;
      try {
        r = await upload(file, (done, total) => {
          t.done = done;
          t.total = total;
          o.changed();
        });
      } catch (err) {
        sendFailed(t, err.message);
        return;
      }
      all.delete(key);
      const t2 = get('u:' + r.upload, 'out');
      Object.assign(t2, { name: r.name, size: r.size, total: r.size, done: 0, state: 'preparing', upload: r.upload });
      o.changed();
      if (!o.send({ type: 'send_file', upload: r.upload })) uploadFailed(r.upload, 'gethelp on this computer did not answer');
    }

    // uploadFailed marks the file of the upload id as not sent, for why.
    function uploadFailed(id, message) {
      let t = all.get('u:' + id);
      if (!t) t = [...all.values()].find((x) => x.upload === id);
      if (t) sendFailed(t, message);
    }

    let acceptTimer = 0;

    function offerItem(t) {
      const li = document.createElement('li');
      li.className = 'offer';
      li.dataset.id = t.id;
      const words = document.createElement('div');
      words.className = 'offer-words';
      const head = document.createElement('strong');
      head.textContent = o.from(t) + ' wants to send you ' + t.name + ' (' + sizeText(t.size) + ').';
      const hint = document.createElement('span');
      hint.className = 'offer-hint';
      hint.textContent = o.hint;
      const sha = document.createElement('span');
      sha.className = 'sha mono';
      sha.textContent = 'SHA-256 ' + t.sha256;
      sha.title = 'The file’s fingerprint: it is checked when the file arrives';
      words.append(head, hint, sha);
      const buttons = document.createElement('div');
      buttons.className = 'offer-buttons';
      const small = o.small ? ' small' : '';
      const accept = document.createElement('button');
      accept.type = 'button';
      accept.className = 'btn primary' + small + ' accept';
      accept.textContent = 'Accept';
      accept.dataset.key = 'accept:' + t.id;
      const left = ACCEPT_DELAY - (Date.now() - (t.shown || 0));
      accept.disabled = left > 0;
      accept.addEventListener('click', () => answer(t.id, true));
      const decline = document.createElement('button');
      decline.type = 'button';
      decline.className = 'btn' + small + ' decline';
      decline.textContent = 'Decline';
      decline.dataset.key = 'decline:' + t.id;
      decline.addEventListener('click', () => answer(t.id, false));
      buttons.append(accept, decline);
      li.append(words, buttons);
      return { li: li, wait: Math.max(left, 0) };
    }

    function transferItem(t) {
      const li = document.createElement('li');
      li.className = 'transfer ' + t.dir + ' ' + t.state;
      li.dataset.id = t.id;
      const icon = document.createElement('span');
      icon.className = 'dir';
      icon.setAttribute('aria-hidden', 'true');
      icon.textContent = t.dir === 'in' ? '↓' : '↑';
      const main = document.createElement('div');
      main.className = 't-main';
      const line = document.createElement('div');
      line.className = 't-line';
      const name = document.createElement('span');
      name.className = 't-name';
      name.textContent = t.name;
      name.title = t.name;
      const size = document.createElement('span');
      size.className = 't-size';
      size.textContent = o.size ? o.size(t) : sizeText(t.size || t.total || 0);
      line.append(name, size);
      main.appendChild(line);
      if (MOVING.includes(t.state)) {
        const bar = document.createElement('progress');
        bar.max = 100;
        if (t.state === 'moving' || t.state === 'uploading') bar.value = t.total ? Math.floor(100 * t.done / t.total) : 0;
        bar.setAttribute('aria-label', t.name);
        main.appendChild(bar);
      }
      const status = document.createElement('div');
      status.className = 't-status';
      status.textContent = o.status(t);
      if (t.state === 'done' && t.dir === 'in') {
        status.appendChild(pathNode(t.path, o.home()));
        status.title = t.path;
      }
      main.appendChild(status);
      li.append(icon, main);
      return li;
    }

    // draw draws the offers waiting for an answer and the transfers,
    // newest first, keeping the keyboard focus on the button it was on.
    function draw() {
      const focused = document.activeElement && document.activeElement.dataset ? document.activeElement.dataset.key : '';
      o.offerList.textContent = '';
      o.transferList.textContent = '';
      let wait = 0;
      for (const t of [...all.values()].reverse()) {
        if (t.state === 'offer') {
          const item = offerItem(t);
          wait = Math.max(wait, item.wait);
          o.offerList.appendChild(item.li);
        } else {
          o.transferList.appendChild(transferItem(t));
        }
      }
      clearTimeout(acceptTimer);
      if (wait > 0) acceptTimer = setTimeout(o.changed, wait + 20);
      if (focused) {
        const el = document.querySelector('[data-key="' + focused + '"]');
        if (el) el.focus();
      }
    }

    // offers returns the transfers waiting for an answer, oldest first.
    function offers() { return [...all.values()].filter((t) => t.state === 'offer'); }

    return { event: event, end: end, send: send, uploadFailed: uploadFailed, draw: draw, offers: offers };
  }

  return {
    wsURL: wsURL, upload: upload, sizeText: sizeText, homePath: homePath, pathNode: pathNode,
    chat: chat, transfers: transfers,
  };
})();
