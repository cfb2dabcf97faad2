// Demo-shop behaviour, no inline handlers. `cjm` is the stub until the tag loads, then the tag itself.
(function () {
  var $ = function (id) {
    return document.getElementById(id);
  };
  var store = function (area, key, value) {
    try {
      if (value === undefined) return window[area].getItem(key);
      window[area].setItem(key, value);
    } catch (e) {
      return null; // storage blocked: the demo still works, a reload may count an order twice
    }
  };

  var form = $('signup-form');
  if (form) {
    form.addEventListener('submit', function () {
      cjm('track', 'signup_completed');
    });
  }
  var buttons = document.querySelectorAll('.feedback button');
  for (var i = 0; i < buttons.length; i++) {
    buttons[i].addEventListener('click', function (e) {
      cjm('feedback', Number(e.currentTarget.getAttribute('data-score')));
      $('feedback-thanks').hidden = false;
    });
  }

  // Checkout: each order gets its own number, carried to the thank-you page.
  var checkout = $('checkout-form');
  if (checkout) {
    checkout.addEventListener('submit', function () {
      $('order-id').value = String(1000 + Math.floor(Math.random() * 9000));
    });
  }

  // Thank-you page: the purchase, once per order however often the page is reloaded.
  var params = new URLSearchParams(location.search);
  var order = params.get('order');
  if ($('order-number') && order) {
    $('order-number').textContent = '#' + order;
    if (!store('sessionStorage', 'demo-order-' + order)) {
      store('sessionStorage', 'demo-order-' + order, '1');
      cjm('track', 'purchase', { order: order, currency: 'EUR' }, Number(params.get('total')) || 0);
    }
    store('localStorage', 'demo-last-order', order);
  }
  if ($('last-order')) $('last-order').textContent = '#' + (store('localStorage', 'demo-last-order') || '1042');

  // After the purchase: a review, a referral.
  var review = $('review-form');
  if (review) {
    review.addEventListener('submit', function (e) {
      e.preventDefault(); // no server behind the demo: the review stays on the page
      cjm('track', 'review_submitted', { rating: Number($('review-rating').value), sku: 'mug' });
      review.hidden = true;
      $('review-thanks').hidden = false;
    });
  }
  var refer = $('refer-friend');
  if (refer) {
    refer.addEventListener('click', function () {
      cjm('track', 'referral_sent', { via: 'link' });
      $('referral-link').hidden = false;
      try {
        navigator.clipboard.writeText($('referral-link').textContent).catch(function () {});
      } catch (e) {
        // no clipboard (http, old browser): the link is shown
      }
    });
  }
})();
