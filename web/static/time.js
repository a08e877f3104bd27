// Shows every <time datetime> of the admin page in the viewer's own time
// zone. The server writes UTC as the text and in the title, so without
// this script (or with JavaScript off) the page still reads in UTC, and
// with it the UTC time stays one hover away. Served by the app itself
// under script-src 'self': no inline script, nothing fetched elsewhere.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  var fmt = new Intl.DateTimeFormat(undefined, {
    year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit", timeZoneName: "short"
  });
  document.querySelectorAll("time[datetime]").forEach(function (el) {
    var d = new Date(el.getAttribute("datetime"));
    if (isNaN(d.getTime())) {
      return;
    }
    el.title = el.textContent;
    el.textContent = fmt.format(d);
    el.classList.add("local");
  });
});
