// The review page's keyboard: digits answer the first open question (its Nth choice),
// Ctrl+Enter submits, d declines, j and k go to the next and previous trace. Typing in a
// text field is left alone.

const form = document.getElementById("review-form");

function typing(target) {
  return target.closest("textarea, input[type=number], input[type=text]") !== null;
}

function firstOpenQuestion() {
  const questions = [...document.querySelectorAll(".question")];
  const choices = (q) => [...q.querySelectorAll("input[type=radio], input[type=checkbox]")];
  return questions.find((q) => choices(q).length && !choices(q).some((c) => c.checked))
    || questions.find((q) => choices(q).length);
}

document.addEventListener("keydown", (event) => {
  if (event.ctrlKey && event.key === "Enter" && form) {
    event.preventDefault();
    form.requestSubmit(document.getElementById("submit-review"));
    return;
  }
  if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
  if (/^[1-9]$/.test(event.key)) {
    const question = firstOpenQuestion();
    const choice = question?.querySelectorAll("input[type=radio], input[type=checkbox]")[
      Number(event.key) - 1];
    if (choice) {
      choice.checked = true;
      choice.focus();
    }
  } else if (event.key === "d" && form) {
    form.requestSubmit(document.getElementById("decline-review"));
  } else if (event.key === "j") {
    document.getElementById("next-item")?.click();
  } else if (event.key === "k") {
    document.getElementById("previous-item")?.click();
  }
});
