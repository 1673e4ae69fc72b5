// Fills the work-site form with the phone's position, improving while the GPS settles.
(function () {
  "use strict";
  var button = document.getElementById("use-my-position");
  if (!button) return;
  var status = document.getElementById("position-status");
  var watchId = null;

  function field(name) { return document.querySelector('[name="' + name + '"]'); }

  button.addEventListener("click", function () {
    if (!("geolocation" in navigator)) { status.textContent = button.dataset.msgUnsupported; return; }
    status.textContent = button.dataset.msgWaiting;
    var best = null;
    if (watchId !== null) navigator.geolocation.clearWatch(watchId);
    watchId = navigator.geolocation.watchPosition(function (pos) {
      if (best && pos.coords.accuracy >= best.coords.accuracy) return;
      best = pos;
      field("latitude").value = pos.coords.latitude.toFixed(6);
      field("longitude").value = pos.coords.longitude.toFixed(6);
      field("accuracy_m").value = Math.round(pos.coords.accuracy);
      field("method").value = "phone";
      status.textContent = button.dataset.msgAccuracy.replace("%s", Math.round(pos.coords.accuracy));
    }, function () {
      status.textContent = button.dataset.msgDenied;
    }, { enableHighAccuracy: true, maximumAge: 0, timeout: 30000 });
  });
})();
