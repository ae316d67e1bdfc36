/* Small progressive enhancements; every page works without them.
 *  - "/" focuses the unit finder (#find) unless the user is typing somewhere;
 *  - the header menu is collapsed on narrow screens and always open on wide ones;
 *  - wide tables scroll sideways in a labelled region that the keyboard can reach;
 *  - a job page (#job) follows its progress from /jobs/<id>.json.
 */
(function () {
  'use strict';

  function typing(target) {
    if (!target || !target.tagName) { return false; }
    var tag = target.tagName.toLowerCase();
    return tag === 'input' || tag === 'textarea' || tag === 'select' || target.isContentEditable;
  }

  /* ------------------------------------------------------------ unit finder */
  document.addEventListener('keydown', function (event) {
    if (event.key !== '/' || event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) { return; }
    var find = document.getElementById('find');
    if (!find) { return; }
    event.preventDefault();
    var menu = find.closest('details');
    if (menu) { menu.open = true; }
    find.focus();
    find.select();
  });
  document.addEventListener('keydown', function (event) {
    if (event.key === 'Escape' && event.target && event.target.id === 'find') {
      event.target.value = '';
      event.target.blur();
    }
  });

  /* ------------------------------------------------------------ header menu */
  var menu = document.querySelector('details[data-menu]');
  if (menu && window.matchMedia) {
    var narrow = window.matchMedia('(max-width: 1023px)');
    var place = function () { menu.open = !narrow.matches; };
    place();
    if (narrow.addEventListener) { narrow.addEventListener('change', place); }
    else if (narrow.addListener) { narrow.addListener(place); }
  }

  /* ------------------------------------------------------------ error page: "Go back" */
  Array.prototype.forEach.call(document.querySelectorAll('[data-back]'), function (button) {
    if (window.history.length < 2) { return; }
    button.hidden = false;
    button.addEventListener('click', function () { window.history.back(); });
  });

  /* ------------------------------------------------------------ wide tables */
  var tableLabel = document.body.getAttribute('data-table-label') || '';

  function nameOf(table) {
    var caption = table.querySelector('caption');
    if (caption && caption.textContent.trim()) { return caption.textContent.trim(); }
    var node = table.parentNode;
    var probe = table;
    while (probe) {  // the nearest heading before the table
      var prev = probe.previousElementSibling;
      while (prev) {
        if (/^H[1-6]$/.test(prev.tagName)) { return prev.textContent.trim(); }
        prev = prev.previousElementSibling;
      }
      probe = probe.parentElement;
      if (!probe || probe.tagName === 'MAIN') { break; }
    }
    return tableLabel || (node && node.id) || '';
  }

  function reachable(wrap) {
    var scrolls = wrap.scrollWidth > wrap.clientWidth + 1;
    if (scrolls) { wrap.setAttribute('tabindex', '0'); } else { wrap.removeAttribute('tabindex'); }
    wrap.classList.toggle('scrolls', scrolls);
  }

  var wraps = [];
  Array.prototype.forEach.call(document.querySelectorAll('main table.data'), function (table) {
    var wrap = table.parentElement;
    if (!wrap.classList.contains('table-wrap')) {
      wrap = document.createElement('div');
      wrap.className = 'table-wrap';
      table.parentNode.insertBefore(wrap, table);
      wrap.appendChild(table);
    }
    if (!wrap.hasAttribute('role')) { wrap.setAttribute('role', 'region'); }
    if (!wrap.hasAttribute('aria-label') && !wrap.hasAttribute('aria-labelledby')) {
      var name = nameOf(table);
      if (name) { wrap.setAttribute('aria-label', name); }
    }
    wraps.push(wrap);
    reachable(wrap);
  });
  if (wraps.length) {
    var pending = null;
    window.addEventListener('resize', function () {
      if (pending) { window.clearTimeout(pending); }
      pending = window.setTimeout(function () { wraps.forEach(reachable); }, 150);
    });
  }

  /* ------------------------------------------------------------ job progress */
  var job = document.getElementById('job');
  if (job && job.getAttribute('data-url') && job.getAttribute('data-status') === 'running') {
    var bar = document.getElementById('bar');
    var state = document.getElementById('state');
    var names = JSON.parse(state.getAttribute('data-labels') || '{}');
    var delay = 1000;
    var last = '', lastStatus = 'running', said = 0;

    var show = function (result) {
      var box = document.getElementById('result');
      if (box && !box.hasAttribute('data-filled')) {
        var labels = JSON.parse(box.getAttribute('data-labels') || '{}');
        JSON.parse(box.getAttribute('data-keys') || '[]').forEach(function (key) {
          if (!(key in result) || !(key in labels)) { return; }
          var item = document.createElement('div'), dt = document.createElement('dt'), dd = document.createElement('dd');
          var value = String(result[key]);
          if (key === 'amount') {  // a decimal string: group the yuan, keep the fen as they are
            var parts = value.split('.');
            parts[0] = parts[0].replace(/\B(?=(\d{3})+$)/g, ',');
            value = parts.join('.');
          }
          dt.textContent = labels[key]; dd.textContent = value;
          item.appendChild(dt); item.appendChild(dd); box.appendChild(item);
        });
        box.setAttribute('data-filled', '');
        box.hidden = box.children.length === 0;
      }
      var list = document.getElementById('warnings');
      (result.warnings || []).forEach(function (text) {
        var li = document.createElement('li'); li.textContent = text; list.appendChild(li);
      });
      var pdf = document.getElementById('download-pdf');
      if (pdf && result.pdf_file_id) { pdf.hidden = false; }
    };

    var update = function (j) {
      if (j.total) { bar.max = j.total; bar.value = j.done; bar.textContent = j.done + ' / ' + j.total; }
      else if (j.status !== 'running') { bar.max = 1; bar.value = 1; }
      var text = (names[j.status] || j.status) + (j.total ? ' · ' + j.done + ' / ' + j.total : '') +
        (j.message ? ' · ' + j.message : '');
      // Screen readers hear a change of status at once; the count at most every five seconds.
      var now = Date.now();
      if (text !== last && (j.status !== lastStatus || now - said >= 5000)) {
        state.textContent = text; last = text; said = now; lastStatus = j.status;
      }
      job.setAttribute('data-status', j.status);
      if (j.status === 'running') { return false; }
      Array.prototype.forEach.call(job.querySelectorAll('[data-while-running]'), function (el) { el.hidden = true; });
      if (j.status === 'done') {
        show(j.result || {});
        Array.prototype.forEach.call(job.querySelectorAll('[data-when-done]'), function (el) { el.hidden = false; });
      } else {
        Array.prototype.forEach.call(job.querySelectorAll('[data-when-failed]'), function (el) { el.hidden = false; });
      }
      return true;
    };

    var poll = function () {
      fetch(job.getAttribute('data-url'), {credentials: 'same-origin', headers: {'Accept': 'application/json'}})
        .then(function (response) {
          if (!response.ok) { throw new Error(String(response.status)); }
          return response.json();
        })
        .then(function (j) {
          delay = Math.min(delay + 250, 3000);
          if (!update(j)) { window.setTimeout(poll, delay); }
        })
        .catch(function () {  // the server may be restarting: keep trying, more slowly
          delay = Math.min(delay * 2, 15000);
          window.setTimeout(poll, delay);
        });
    };
    poll();
  }
})();
