// webchat, the demo's chat: a page over the JSON API of package webchat
// (see its doc.go). What the page shows it fetches; the WebSocket only
// says that something changed, and a page that reconnects fetches again.
'use strict';

(function () {
  const $ = (id) => document.getElementById(id);
  const SVG = 'http://www.w3.org/2000/svg';

  const st = {
    ws: null,
    retry: 0,
    workspace: '',
    users: [],
    channels: [],
    user: '',          // the user the page acts as
    view: '',          // '#channel', '@' (the direct messages with the bot) or 'mail'
    thread: '',        // the open thread's root id, or ''
    shown: {},         // list element id → {sigs, lis, count}: what it shows
    unread: {},        // view → count, for st.user
    mail: [],
    mailOpen: '',      // the open mail's id
    mailTab: 'text',
    ready: false,
  };
  window.webchat = st; // for tests

  // ---- Storage of what was seen, per user ----

  function load(key, dflt) {
    try { const v = JSON.parse(localStorage.getItem('webchat.' + key)); return v == null ? dflt : v; } catch (e) { return dflt; }
  }
  function save(key, v) {
    try { localStorage.setItem('webchat.' + key, JSON.stringify(v)); } catch (e) { /* private mode */ }
  }
  function seq(id) { return parseInt(String(id).replace(/^\D+/, ''), 10) || 0; }
  function seenKey(view) { return 'seen.' + st.workspace + '.' + st.user + '.' + view; }
  function markSeen(view, msgs) {
    let last = load(seenKey(view), 0);
    for (const m of msgs) last = Math.max(last, seq(m.id));
    save(seenKey(view), last);
    st.unread[view] = 0;
    drawBadges();
  }
  function mailSeen() { return new Set(load('mailseen.' + st.workspace, [])); }

  // ---- The API ----

  async function api(path, body) {
    const opts = body === undefined ? {} : {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    };
    const r = await fetch(path, opts);
    let j = null;
    try { j = await r.json(); } catch (e) { /* not JSON */ }
    if (!r.ok) throw new Error((j && j.error) || ('the chat answered ' + r.status));
    return j;
  }

  function where(view) {
    return view === '@' ? { channel: '' } : { channel: view.slice(1) };
  }
  function q(params) {
    return Object.entries(params).map(([k, v]) => k + '=' + encodeURIComponent(v)).join('&');
  }
  function fetchMessages(view, thread) {
    return api('/api/messages?' + q({ user: st.user, channel: where(view).channel, thread: thread || '' }));
  }

  // ---- WebSocket: changes ----

  function connect() {
    const t = new URLSearchParams(location.search).get('t');
    const url = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/ws' +
      (t ? '?t=' + encodeURIComponent(t) : '');
    const ws = new WebSocket(url);
    st.ws = ws;
    ws.onmessage = (ev) => {
      let m;
      try { m = JSON.parse(ev.data); } catch (e) { return; }
      if (m.type === 'hello') {
        st.retry = 0;
        $('link').hidden = true;
        refreshAll();
      } else if (m.type === 'message') {
        onMessage(m);
      } else if (m.type === 'mail') {
        refreshMail();
      }
    };
    ws.onclose = () => {
      if (st.ws !== ws) return;
      st.ws = null;
      $('link').textContent = 'Lost contact with the chat. Reconnecting…';
      $('link').hidden = false;
      st.retry = Math.min(st.retry + 1, 5);
      setTimeout(connect, 400 * st.retry);
    };
  }

  function viewOf(m) { return m.channel ? '#' + m.channel : '@'; }
  function visible(m) {
    if (m.dm && m.dm !== st.user) return false;
    return !m.visible_to || m.visible_to === st.user;
  }

  function onMessage(m) {
    if (!visible(m)) return;
    const v = viewOf(m);
    if (v === st.view) refreshView();
    if (m.thread && m.thread === st.thread && v === st.view) refreshThread();
    if (v !== st.view && !m.thread && m.author !== st.user) {
      st.unread[v] = (st.unread[v] || 0) + 1;
      drawBadges();
    }
  }

  async function refreshAll() {
    await Promise.all([refreshView(), refreshThread(), refreshUnread(), refreshMail()]);
    st.ready = true;
  }

  async function refreshUnread() {
    const user = st.user;
    const views = st.channels.map((c) => '#' + c).concat(['@']);
    await Promise.all(views.map(async (v) => {
      if (v === st.view) { st.unread[v] = 0; return; }
      let msgs;
      try { msgs = await fetchMessages(v, ''); } catch (e) { return; }
      if (user !== st.user) return;
      const last = load(seenKey(v), 0);
      st.unread[v] = msgs.filter((m) => seq(m.id) > last && m.author !== st.user).length;
    }));
    drawBadges();
  }

  // ---- Drawing ----

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = text;
    return e;
  }

  function svgIcon(paths, cls) {
    const s = document.createElementNS(SVG, 'svg');
    s.setAttribute('viewBox', '0 0 24 24');
    s.setAttribute('aria-hidden', 'true');
    s.setAttribute('focusable', 'false');
    if (cls) s.setAttribute('class', cls);
    for (const d of paths) {
      const p = document.createElementNS(SVG, 'path');
      p.setAttribute('d', d);
      p.setAttribute('fill', 'none');
      p.setAttribute('stroke', 'currentColor');
      p.setAttribute('stroke-width', '2');
      p.setAttribute('stroke-linecap', 'round');
      p.setAttribute('stroke-linejoin', 'round');
      s.appendChild(p);
    }
    return s;
  }

  function botLogo() {
    const s = document.createElementNS(SVG, 'svg');
    s.setAttribute('viewBox', '0 0 32 32');
    s.setAttribute('aria-hidden', 'true');
    const parts = [
      ['rect', { x: 0, y: 0, width: 32, height: 32, rx: 7, fill: '#1f5fbf' }],
      ['circle', { cx: 16, cy: 16, r: 11, fill: '#fff' }],
      ['circle', { cx: 16, cy: 16, r: 5, fill: '#1f5fbf' }],
      ['path', { d: 'M8.2 8.2l4.4 4.4M23.8 8.2l-4.4 4.4M8.2 23.8l4.4-4.4M23.8 23.8l-4.4-4.4', stroke: '#1f5fbf', 'stroke-width': 3.5 }],
    ];
    for (const [tag, attrs] of parts) {
      const e = document.createElementNS(SVG, tag);
      for (const k in attrs) e.setAttribute(k, attrs[k]);
      s.appendChild(e);
    }
    return s;
  }

  const COLORS = ['#b04a8c', '#2f7d5b', '#c0641d', '#6a4fb3', '#227a99', '#9a3f3f', '#4f6b1e'];
  function colorOf(id) {
    let h = 0;
    for (const c of id) h = (h * 31 + c.charCodeAt(0)) >>> 0;
    return COLORS[h % COLORS.length];
  }

  function userName(id) {
    const u = st.users.find((u) => u.id === id);
    return u ? u.name : id;
  }

  function clock(iso) {
    const d = new Date(iso);
    return isNaN(d) ? '' : d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  }
  function when(iso) {
    const d = new Date(iso);
    if (isNaN(d)) return '';
    const today = new Date();
    if (d.toDateString() === today.toDateString()) return clock(iso);
    return d.toLocaleDateString([], { day: 'numeric', month: 'short' }) + ' ' + clock(iso);
  }
  function size(n) {
    if (n < 1024) return n + ' bytes';
    if (n < 1024 * 1024) return (n / 1024).toFixed(n < 10240 ? 1 : 0) + ' KB';
    return (n / 1024 / 1024).toFixed(1) + ' MB';
  }

  // formatted appends text to parent with *bold*, `code` and http(s)
  // links, built as elements (never as HTML).
  function formatted(parent, text) {
    const re = /(https?:\/\/[^\s<>"]+)|\*([^*\n]+)\*|`([^`\n]+)`/g;
    let at = 0;
    let m;
    while ((m = re.exec(text)) !== null) {
      parent.appendChild(document.createTextNode(text.slice(at, m.index)));
      if (m[1]) {
        let link = m[1];
        let tail = '';
        const t = link.match(/[.,;:!?)\]]+$/);
        if (t) { tail = t[0]; link = link.slice(0, -tail.length); }
        const a = el('a', null, link);
        a.href = link;
        a.target = '_blank';
        a.rel = 'noopener noreferrer';
        parent.appendChild(a);
        if (tail) parent.appendChild(document.createTextNode(tail));
      } else if (m[2]) {
        parent.appendChild(el('strong', null, m[2]));
      } else {
        parent.appendChild(el('code', null, m[3]));
      }
      at = m.index + m[0].length;
    }
    parent.appendChild(document.createTextNode(text.slice(at)));
  }

  function fileLink(f) {
    const a = el('a', 'file');
    a.href = f.url;
    a.download = f.name;
    a.appendChild(svgIcon(['M6 2h8l6 6v14H6z', 'M14 2v6h6', 'M12 11v7M9 15l3 3 3-3']));
    const d = el('span');
    d.appendChild(el('span', 'file-name', f.name));
    d.appendChild(el('span', 'file-size', size(f.size) + (f.content_type ? ' · ' + f.content_type : '') + ' · Download'));
    a.appendChild(d);
    a.setAttribute('aria-label', 'Download ' + f.name + ', ' + size(f.size));
    return a;
  }

  function drawMessage(m, opts) {
    const li = el('li', 'msg' + (m.visible_to ? ' ephemeral' : ''));
    li.dataset.id = m.id;
    const av = el('div', 'avatar');
    av.setAttribute('aria-hidden', 'true');
    if (m.author === 'bot') {
      av.appendChild(botLogo());
    } else {
      av.textContent = (m.author_name || m.author).charAt(0).toUpperCase();
      av.style.background = colorOf(m.author);
    }
    li.appendChild(av);

    const body = el('div', 'msg-body');
    if (m.visible_to) {
      const n = el('div', 'eph-note');
      n.appendChild(svgIcon(['M2 12s3.5-7 10-7 10 7 10 7-3.5 7-10 7S2 12 2 12z', 'M12 9a3 3 0 1 0 0 6 3 3 0 1 0 0-6z']));
      n.appendChild(document.createTextNode('Only visible to you'));
      body.appendChild(n);
    }
    const head = el('div', 'msg-head');
    head.appendChild(el('span', 'author', m.author === 'bot' ? (m.author_name || 'gethelp') : (m.author_name || m.author)));
    if (m.author === 'bot') head.appendChild(el('span', 'app-tag', 'APP'));
    const t = el('time', null, clock(m.time));
    t.dateTime = m.time;
    t.title = new Date(m.time).toLocaleString();
    head.appendChild(t);
    body.appendChild(head);

    if (m.command) {
      const u = el('p', 'used');
      u.appendChild(document.createTextNode(userName(m.visible_to) + ' used '));
      u.appendChild(el('code', null, m.command));
      body.appendChild(u);
    }
    if (m.text) {
      const tx = el('div', 'text');
      formatted(tx, m.text);
      body.appendChild(tx);
    }
    if (m.file) body.appendChild(fileLink(m.file));
    if (m.buttons && m.buttons.length) {
      const row = el('div', 'actions');
      for (const b of m.buttons) {
        const btn = el('button', 'btn' + (b.style ? ' ' + b.style : ''), b.label);
        btn.type = 'button';
        btn.dataset.action = b.action;
        btn.dataset.value = b.value || '';
        btn.addEventListener('click', () => press(m, b, btn, body));
        row.appendChild(btn);
      }
      body.appendChild(row);
    }
    if (opts.threads && !m.visible_to) {
      if (m.replies) {
        const r = el('button', 'replies', m.replies === 1 ? '1 reply' : m.replies + ' replies');
        r.type = 'button';
        r.setAttribute('aria-label', r.textContent + ': open the thread');
        r.addEventListener('click', () => openThread(m.id));
        body.appendChild(r);
      }
      const rb = el('button', 'reply-btn', 'Reply in thread');
      rb.type = 'button';
      rb.addEventListener('click', () => openThread(m.id));
      li.appendChild(rb);
    }
    li.appendChild(body);
    return li;
  }

  // drawList draws msgs into the list, changing only the messages that
  // changed and appending new ones (messages only ever come after the
  // others), so that a screen reader hears what is new; it keeps the list
  // scrolled to the bottom if it was there.
  function drawList(list, msgs, opts) {
    const prev = st.shown[list.id] || { sigs: [], lis: [], count: null };
    if (!msgs.length) {
      list.replaceChildren(el('li', 'empty', opts.empty));
      st.shown[list.id] = { sigs: [], lis: [], count: null };
      return;
    }
    if (!prev.sigs.length) list.replaceChildren();
    const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
    const next = { sigs: [], lis: [], count: prev.count };
    msgs.forEach((m, i) => {
      const root = opts.rootFirst && i === 0;
      const sig = JSON.stringify(root ? Object.assign({}, m, { replies: 0 }) : m);
      let li = prev.lis[i];
      if (prev.sigs[i] !== sig) {
        const fresh = drawMessage(m, opts);
        if (root) fresh.classList.add('thread-root');
        if (li) li.replaceWith(fresh); else list.appendChild(fresh);
        li = fresh;
      }
      if (root && !next.count) {
        next.count = el('li', 'reply-count');
        li.after(next.count);
      }
      next.sigs.push(sig);
      next.lis.push(li);
    });
    for (const li of prev.lis.slice(msgs.length)) li.remove();
    if (next.count) {
      const n = msgs.length - 1;
      next.count.textContent = n === 0 ? 'No replies yet' : n === 1 ? '1 reply' : n + ' replies';
    }
    st.shown[list.id] = next;
    if (atBottom || opts.scroll) list.scrollTop = list.scrollHeight;
  }

  function drawBadges() {
    for (const b of document.querySelectorAll('.nav-item')) {
      const v = b.dataset.conv;
      const badge = b.querySelector('.badge');
      let n = v === 'mail' ? mailUnread() : (st.unread[v] || 0);
      if (v === st.view && v !== 'mail') n = 0;
      badge.hidden = n === 0;
      badge.textContent = n > 99 ? '99+' : String(n);
      b.classList.toggle('unread', n > 0);
      const label = b.querySelector('.nav-label').textContent;
      b.setAttribute('aria-label', label + (n ? ', ' + n + ' unread' : ''));
      if (v === st.view) b.setAttribute('aria-current', 'page'); else b.removeAttribute('aria-current');
    }
  }

  function drawNav() {
    $('ws-name').textContent = st.workspace;
    $('ws-logo').textContent = st.workspace.charAt(0);
    document.title = st.workspace + ' · webchat';
    const ul = $('nav-channels');
    ul.replaceChildren();
    for (const c of st.channels) {
      const li = el('li');
      const b = el('button', 'nav-item');
      b.type = 'button';
      b.id = 'nav-ch-' + c;
      b.dataset.conv = '#' + c;
      b.appendChild(el('span', 'nav-hash', '#'));
      b.appendChild(el('span', 'nav-label', c));
      b.appendChild(el('span', 'badge'));
      li.appendChild(b);
      ul.appendChild(li);
    }
    for (const b of document.querySelectorAll('.nav-item')) {
      b.addEventListener('click', () => show(b.dataset.conv));
    }
    const sel = $('user');
    sel.replaceChildren();
    for (const u of st.users) {
      const o = el('option', null, u.name);
      o.value = u.id;
      sel.appendChild(o);
    }
    sel.value = st.user;
  }

  // ---- Views ----

  function title(view) {
    if (view === 'mail') return 'Mailbox';
    if (view === '@') return 'gethelp bot';
    return view;
  }

  function show(view) {
    if (view !== 'mail' && view !== '@' && !st.channels.includes(view.slice(1))) view = '#' + st.channels[0];
    const changed = view !== st.view;
    st.view = view;
    save('view.' + st.workspace, view);
    if (changed) closeThread();
    $('conv-title').textContent = title(view);
    const mail = view === 'mail';
    $('chat').hidden = mail;
    $('mailbox').hidden = !mail;
    if (mail) {
      $('conv-sub').textContent = 'Every e-mail the bot sent, caught here for the demo';
      drawMail();
    } else {
      $('conv-sub').textContent = view === '@'
        ? 'Your direct messages with the bot: what it sends only to you'
        : 'Channel in ' + st.workspace + ' · everyone in the workspace can read it';
      const label = 'Message ' + title(view);
      $('input').placeholder = label;
      $('input-label').textContent = label;
      $('messages').setAttribute('aria-label', 'Messages in ' + title(view));
      if (changed) { st.shown.messages = null; $('messages').replaceChildren(); }
      refreshView(true);
    }
    drawBadges();
  }

  async function refreshView(scroll) {
    const view = st.view;
    const user = st.user;
    if (view === 'mail' || !user) return;
    let msgs;
    try { msgs = await fetchMessages(view, ''); } catch (e) { showError($('error'), e.message); return; }
    if (view !== st.view || user !== st.user) return;
    drawList($('messages'), msgs, {
      threads: true, scroll: scroll,
      empty: view === '@' ? 'No direct messages yet. The bot writes here what only you should see.' : 'No messages yet.',
    });
    markSeen(view, msgs);
  }

  function openThread(id) {
    st.thread = id;
    $('thread').hidden = false;
    $('thread-where').textContent = title(st.view);
    st.shown['thread-messages'] = null;
    refreshThread(true).then(() => $('thread-input').focus());
  }

  function closeThread() {
    st.thread = '';
    $('thread').hidden = true;
  }

  async function refreshThread(scroll) {
    const id = st.thread;
    const view = st.view;
    if (!id) return;
    let msgs;
    try { msgs = await fetchMessages(view, id); } catch (e) { showError($('thread-error'), e.message); return; }
    if (id !== st.thread || view !== st.view) return;
    drawList($('thread-messages'), msgs, { rootFirst: true, scroll: scroll, empty: '' });
  }

  // ---- Mailbox ----

  function mailUnread() {
    const seen = mailSeen();
    return st.mail.filter((m) => !seen.has(m.id)).length;
  }

  async function refreshMail() {
    try { st.mail = await api('/api/mail'); } catch (e) { return; }
    drawBadges();
    if (st.view === 'mail') drawMail();
  }

  function drawMail() {
    const ul = $('mail-list');
    const seen = mailSeen();
    ul.replaceChildren();
    if (!st.mail.length) ul.appendChild(el('li', 'empty', 'No mail yet. What the bot e-mails appears here.'));
    for (const m of st.mail.slice().reverse()) {
      const li = el('li');
      const b = el('button', 'mail-item' + (seen.has(m.id) ? '' : ' unread'));
      b.type = 'button';
      b.dataset.id = m.id;
      if (m.id === st.mailOpen) b.setAttribute('aria-current', 'true');
      const dot = el('span', 'mail-dot');
      dot.setAttribute('aria-hidden', 'true');
      b.appendChild(dot);
      b.appendChild(el('span', 'mail-from', m.from));
      b.appendChild(el('span', 'mail-date', when(m.date)));
      b.appendChild(el('span', 'mail-subject', m.subject || '(no subject)'));
      b.appendChild(el('span', 'mail-snippet', 'To ' + m.to + ' · ' + (m.text || '').replace(/\s+/g, ' ').slice(0, 120)));
      if (!seen.has(m.id)) b.setAttribute('aria-label', 'Unread: ' + (m.subject || '(no subject)') + ', from ' + m.from);
      b.addEventListener('click', () => openMail(m.id));
      li.appendChild(b);
      ul.appendChild(li);
    }
    drawMailView();
  }

  function openMail(id) {
    st.mailOpen = id;
    st.mailTab = 'text';
    const seen = mailSeen();
    seen.add(id);
    save('mailseen.' + st.workspace, Array.from(seen));
    drawMail();
    drawBadges();
  }

  function drawMailView() {
    const v = $('mail-view');
    const m = st.mail.find((m) => m.id === st.mailOpen);
    v.replaceChildren();
    if (!m) { v.appendChild(el('p', 'empty', st.mail.length ? 'Choose a mail to read it.' : 'No mail is open.')); return; }
    v.appendChild(el('h3', null, m.subject || '(no subject)'));
    const dl = el('dl', 'mail-meta');
    for (const [k, val] of [['From', m.from], ['To', m.to], ['Date', new Date(m.date).toLocaleString()]]) {
      dl.appendChild(el('dt', null, k));
      dl.appendChild(el('dd', null, val));
    }
    v.appendChild(dl);
    if (m.attachments.length) {
      const files = el('div', 'mail-files');
      files.setAttribute('role', 'group');
      files.setAttribute('aria-label', 'Attachments');
      for (const a of m.attachments) files.appendChild(fileLink(a));
      v.appendChild(files);
    }
    if (m.html_url) {
      const tabs = el('div', 'tabs');
      tabs.setAttribute('role', 'tablist');
      tabs.setAttribute('aria-label', 'Version of the mail');
      for (const [k, label] of [['text', 'Plain text'], ['html', 'HTML']]) {
        const tb = el('button', 'tab', label);
        tb.type = 'button';
        tb.id = 'mail-tab-' + k;
        tb.setAttribute('role', 'tab');
        tb.setAttribute('aria-selected', String(st.mailTab === k));
        tb.addEventListener('click', () => { st.mailTab = k; drawMailView(); });
        tabs.appendChild(tb);
      }
      v.appendChild(tabs);
    }
    if (st.mailTab === 'html' && m.html_url) {
      const f = el('iframe', 'mail-html');
      f.setAttribute('sandbox', '');
      f.setAttribute('referrerpolicy', 'no-referrer');
      f.title = 'HTML version of “' + (m.subject || 'the mail') + '”';
      f.src = m.html_url;
      v.appendChild(f);
      v.appendChild(el('p', 'mail-html-note', 'Shown without scripts or remote images.'));
    } else {
      v.appendChild(el('pre', 'mail-text', m.text || '(This mail has no plain-text version: see HTML.)'));
    }
  }

  // ---- Acting ----

  function showError(p, text) {
    p.textContent = text;
    p.hidden = !text;
  }

  async function press(m, b, btn, body) {
    const old = body.querySelector('.msg-error');
    if (old) old.remove();
    btn.disabled = true;
    try {
      await api('/api/press', { user: st.user, message: m.id, action: b.action, value: b.value || '' });
    } catch (e) {
      body.appendChild(el('p', 'msg-error', 'The button did not work: ' + e.message));
    } finally {
      btn.disabled = false;
    }
    refreshView();
    refreshThread();
  }

  const COMMAND = '/gethelp';

  function setupComposer(form, input, hint, error, thread) {
    function drawHint() {
      const v = input.value;
      const word = v.split(/\s/)[0];
      if (!v.startsWith('/')) { hint.hidden = true; return; }
      hint.replaceChildren();
      if (COMMAND.startsWith(word)) {
        hint.appendChild(el('p', 'hint-title', 'Command'));
        const b = el('button', 'hint-item');
        b.type = 'button';
        b.appendChild(el('strong', null, COMMAND));
        b.appendChild(el('span', 'args', '[@helper] [what you need help with]'));
        b.appendChild(el('span', 'desc', 'Ask for remote help: the bot invites a helper to see your screen.' +
          (word === COMMAND ? ' Enter sends it; only you see the answer.' : ' Tab completes.')));
        b.addEventListener('click', () => { input.value = COMMAND + ' '; input.focus(); drawHint(); });
        hint.appendChild(b);
      } else {
        hint.appendChild(el('p', 'hint-bad', word + ' is not a command here. Try ' + COMMAND + '.'));
      }
      hint.hidden = false;
    }
    function grow() {
      input.style.height = 'auto';
      input.style.height = Math.min(input.scrollHeight, 160) + 'px';
    }
    input.addEventListener('input', () => { showError(error, ''); drawHint(); grow(); });
    input.addEventListener('keydown', (e) => {
      if (e.key === 'Tab' && !hint.hidden && COMMAND.startsWith(input.value)) {
        e.preventDefault();
        input.value = COMMAND + ' ';
        drawHint();
      } else if (e.key === 'Escape') {
        hint.hidden = true;
      } else if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        form.requestSubmit();
      }
    });
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const text = input.value;
      const trimmed = text.trim();
      if (!trimmed) return;
      const at = Object.assign({ user: st.user, thread: thread ? st.thread : '' }, where(st.view));
      const isCommand = trimmed.startsWith('/');
      if (isCommand && trimmed.split(/\s/)[0] !== COMMAND) {
        showError(error, trimmed.split(/\s/)[0] + ' is not a command here. Try ' + COMMAND + '.');
        return;
      }
      input.value = '';
      hint.hidden = true;
      grow();
      showError(error, '');
      try {
        if (isCommand) await api('/api/command', Object.assign(at, { text: trimmed }));
        else await api('/api/post', Object.assign(at, { text: text }));
      } catch (err) {
        showError(error, (isCommand ? COMMAND + ' failed: ' : 'Not sent: ') + err.message);
        if (!input.value) input.value = text;
        grow();
      }
      if (thread) refreshThread(true); else refreshView(true);
    });
  }

  function setUser(id) {
    if (!st.users.some((u) => u.id === id)) id = st.users.length ? st.users[0].id : '';
    st.user = id;
    $('user').value = id;
    save('user.' + st.workspace, id);
    st.unread = {};
    st.shown = {};
    closeThread();
    show(st.view);
    refreshUnread();
  }

  async function start() {
    let w;
    try { w = await api('/api/workspace'); } catch (e) {
      $('link').textContent = 'Cannot reach the chat: ' + e.message;
      $('link').hidden = false;
      return;
    }
    st.workspace = w.workspace;
    st.users = w.users;
    st.channels = w.channels;
    st.view = load('view.' + st.workspace, '#' + st.channels[0]);
    drawNav();
    $('user').addEventListener('change', (e) => setUser(e.target.value));
    $('thread-close').addEventListener('click', closeThread);
    document.addEventListener('keydown', (e) => { if (e.key === 'Escape' && !$('thread').hidden && e.target.tagName !== 'TEXTAREA') closeThread(); });
    setupComposer($('composer'), $('input'), $('hint'), $('error'), false);
    setupComposer($('thread-composer'), $('thread-input'), $('thread-hint'), $('thread-error'), true);
    setUser(load('user.' + st.workspace, ''));
    connect();
  }

  start();
})();
