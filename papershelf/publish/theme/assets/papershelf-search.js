// The header's search button opens Pagefind's search in a dialog. Pagefind's UI (its script,
// its styles, then the index chunks a query needs) is fetched when the button is first used,
// so a page's first load fetches none of it. Without script the button is a link to the
// Search page. The keys "/", "s" and "f" open it too, as they opened Material's search.
(() => {
  const button = document.querySelector(".ps-search-button");
  if (!button) return;
  // Absolute: Pagefind resolves its files and result links from the bundle's address.
  const bundle = new URL(button.dataset.psPagefind, document.baseURI).href;
  const label = "Search papers, topics and listings";
  let dialog = null;

  function element(tag, properties) {
    return Object.assign(document.createElement(tag), properties);
  }

  function makeDialog() {
    dialog = element("dialog", { className: "ps-search md-typeset" });
    dialog.setAttribute("aria-label", label);
    const close = element("button", { type: "button", className: "ps-search__close" });
    close.setAttribute("aria-label", "Close the search");
    close.textContent = "\u00d7";
    close.addEventListener("click", () => dialog.close());
    const results = element("div", { className: "ps-search__ui" });
    dialog.append(close, results);
    // A click on the backdrop (the dialog itself, outside its content) closes it.
    dialog.addEventListener("click", (event) => event.target === dialog && dialog.close());
    document.body.append(dialog);
    document.head.append(element("link", { rel: "stylesheet", href: bundle + "pagefind-ui.css" }));
    const script = element("script", { src: bundle + "pagefind-ui.js" });
    script.addEventListener("load", () => {
      new PagefindUI({
        element: results,
        bundlePath: bundle,
        showSubResults: true,
        showImages: false,
      });
      const input = results.querySelector("input");
      input.setAttribute("aria-label", label); // Pagefind's box has only a title
      input.focus();
    });
    document.head.append(script);
  }

  function open() {
    if (!dialog) makeDialog();
    dialog.showModal();
    dialog.querySelector("input")?.focus();
  }

  button.addEventListener("click", (event) => {
    // With a modifier the visitor asked for the Search page itself (a new tab, say).
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey)
      return;
    event.preventDefault();
    open();
  });
  window.addEventListener("keydown", (event) => {
    if (!["/", "s", "f"].includes(event.key) || event.metaKey || event.ctrlKey || event.altKey)
      return;
    const target = event.target;
    if (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName)) return;
    if (dialog?.open) return;
    event.preventDefault();
    open();
  });
})();
