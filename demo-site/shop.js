// Demo-shop behaviour, no inline handlers. `cjm` is the stub until the tag loads, then the tag itself.
(function () {
  var form = document.getElementById('signup-form');
  if (form) {
    form.addEventListener('submit', function () {
      cjm('track', 'signup_completed');
    });
  }
  var buttons = document.querySelectorAll('.feedback button');
  for (var i = 0; i < buttons.length; i++) {
    buttons[i].addEventListener('click', function (e) {
      cjm('feedback', Number(e.currentTarget.getAttribute('data-score')));
      document.getElementById('feedback-thanks').hidden = false;
    });
  }
})();
