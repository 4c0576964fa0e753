// The site's search is Pagefind's, its index in bundles (pagefind/0/, pagefind/1/, ...,
// listed in pagefind/bundles.json; see papershelf/publish/search.py): the first is the
// primary, whose UI searches the others too and merges their results by score.
// papershelfSearch(element, pagefind) starts that UI in element; pagefind is the address
// of the pagefind/ directory. The Search page calls it too.
const papershelfSearchLabel = "Search papers, topics and listings";

async function papershelfSearch(element, pagefind) {
  // Absolute: Pagefind resolves its files and result links from the bundle's address.
  const base = new URL(pagefind, document.baseURI).href;
  const bundles = await (await fetch(base + "bundles.json")).json();
  const ui = new PagefindUI({
    element,
    bundlePath: base + bundles[0],
    mergeIndex: bundles.slice(1).map((name) => ({ bundlePath: base + name })),
    showSubResults: true,
    showImages: false,
  });
  const input = element.querySelector("input");
  // Pagefind's box has only a title; a label names it for screen readers (WCAG 4.1.2).
  input?.setAttribute("aria-label", papershelfSearchLabel);
  return ui;
}

// The header's search button opens the search in a dialog. Pagefind's UI (its script, its
// styles, then the index chunks a query needs) is fetched when the button is first used,
// so a page's first load fetches none of it. Without script the button is a link to the
// Search page. The keys "/", "s" and "f" open it too, as they opened Material's search.
(() => {
  const button = document.querySelector(".ps-search-button");
  if (!button) return;
  const pagefind = button.dataset.psPagefind;
  const label = papershelfSearchLabel;
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
    // The UI's files are the same in every bundle: the primary's are used.
    const ui = new URL(pagefind + "0/", document.baseURI).href;
    document.head.append(element("link", { rel: "stylesheet", href: ui + "pagefind-ui.css" }));
    const script = element("script", { src: ui + "pagefind-ui.js" });
    script.addEventListener("load", async () => {
      await papershelfSearch(results, pagefind);
      results.querySelector("input")?.focus();
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
