// Display choices kept across reloads in localStorage (wrap, time format,
// rows per page, the tab). What the URL says is not kept here: a link must
// show the same view to whoever opens it.

const PREFIX = 'zenserver-';

/** The stored value of `name` if it is one of `allowed`, else `fallback`. */
export function loadPref(name, allowed, fallback) {
  try {
    const value = localStorage.getItem(PREFIX + name);
    return allowed.includes(value) ? value : fallback;
  } catch {
    return fallback; // storage disabled: the defaults serve
  }
}

export function savePref(name, value) {
  try {
    localStorage.setItem(PREFIX + name, value);
  } catch {
    // Storage full or disabled: the choice holds until the reload.
  }
}

/** A stored list of strings (JSON), or [] when there is none or it is damaged. */
export function loadList(name) {
  try {
    const value = JSON.parse(localStorage.getItem(PREFIX + name) ?? '[]');
    return Array.isArray(value) ? value.filter((item) => typeof item === 'string') : [];
  } catch {
    return [];
  }
}

export function saveList(name, list) {
  savePref(name, JSON.stringify(list));
}
