package datasets

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
)

// kind is one family of generated prompts.
type kind struct {
	category   string // label.category, and the key of ModelProfile.CategoryBonus
	source     string // item source
	complexity string // label.complexity: the bucket the prompt is meant for
	weight     int    // relative share of the dataset
	// graded kinds are open-ended: a judge would give partial credit, so
	// scores spread over [0, 1] instead of being 0 or 1.
	graded bool
	// completion is the typical answer length in tokens, [min, max).
	completion [2]int
	// make draws a prompt and, where one is computable, its reference answer.
	make func(r *rand.Rand) (prompt, reference string)
}

// kinds lists every prompt family; weights sum to 100, giving about 40%
// simple, 35% moderate and 25% complex prompts.
func kinds() []kind {
	return []kind{
		{"math", "demo/arithmetic", "simple", 12, false, [2]int{8, 30}, arithmetic},
		{"conversion", "demo/units", "simple", 10, false, [2]int{15, 40}, conversion},
		{"factual", "demo/facts", "simple", 8, false, [2]int{5, 20}, capitalQuestion},
		{"factual", "demo/facts", "simple", 10, true, [2]int{30, 70}, definitionQuestion},
		{"math", "demo/math", "moderate", 12, false, [2]int{80, 220}, wordProblem},
		{"code", "demo/code", "moderate", 12, true, [2]int{120, 350}, codeFunction},
		{"explanation", "demo/writing", "moderate", 8, true, [2]int{200, 450}, explanation},
		{"summarization", "demo/writing", "moderate", 3, true, [2]int{40, 120}, summary},
		{"math", "demo/math", "complex", 7, false, [2]int{250, 600}, counting},
		{"reasoning", "demo/reasoning", "complex", 5, true, [2]int{300, 800}, proof},
		{"system_design", "demo/design", "complex", 7, true, [2]int{700, 1400}, design},
		{"code", "demo/code", "complex", 6, true, [2]int{500, 1100}, hardCode},
	}
}

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

// between returns an int in [lo, hi].
func between(r *rand.Rand, lo, hi int) int { return lo + r.IntN(hi-lo+1) }

func arithmetic(r *rand.Rand) (string, string) {
	switch r.IntN(4) {
	case 0:
		a, b := between(r, 10, 999), between(r, 10, 999)
		return fmt.Sprintf(pick(r, []string{"What is %d + %d?", "Add %d and %d."}), a, b), strconv.Itoa(a + b)
	case 1:
		a, b := between(r, 100, 999), between(r, 10, 99)
		return fmt.Sprintf(pick(r, []string{"What is %d - %d?", "Subtract %[2]d from %[1]d."}), a, b), strconv.Itoa(a - b)
	case 2:
		a, b := between(r, 2, 99), between(r, 2, 99)
		return fmt.Sprintf(pick(r, []string{"What is %d × %d?", "Calculate %d times %d."}), a, b), strconv.Itoa(a * b)
	default:
		b, q := between(r, 2, 20), between(r, 2, 50)
		return fmt.Sprintf(pick(r, []string{"What is %d divided by %d?", "Compute %d / %d."}), b*q, b), strconv.Itoa(q)
	}
}

func conversion(r *rand.Rand) (string, string) {
	u := pick(r, units())
	v := between(r, 1, 500)
	got := strconv.FormatFloat(float64(v)*u.factor+u.offset, 'f', 2, 64)
	got = strings.TrimSuffix(strings.TrimSuffix(got, "0"), ".0")
	var prompt string
	if r.IntN(2) == 0 {
		prompt = fmt.Sprintf("Convert %d %s to %s.", v, u.from, u.to)
	} else {
		prompt = fmt.Sprintf("How many %s is %d %s?", u.to, v, u.from)
	}
	return prompt, fmt.Sprintf("%d %s is about %s %s.", v, u.from, got, u.to)
}

func capitalQuestion(r *rand.Rand) (string, string) {
	c := pick(r, capitals())
	form := pick(r, []string{"What is the capital of %s?", "Name the capital city of %s."})
	return fmt.Sprintf(form, c.country), fmt.Sprintf("The capital of %s is %s.", c.country, c.city)
}

func definitionQuestion(r *rand.Rand) (string, string) {
	d := pick(r, definitions())
	form := pick(r, []string{"Define %s in one sentence.", "What is %s? Answer briefly.", "Give a short definition of %s."})
	return fmt.Sprintf(form, d.term), d.meaning
}

func wordProblem(r *rand.Rand) (string, string) {
	name := pick(r, names())
	switch r.IntN(5) {
	case 0:
		pen, book, np, nb := between(r, 2, 6), between(r, 4, 12), between(r, 2, 9), between(r, 1, 5)
		total := pen*np + book*nb
		bill := 50
		if total >= bill {
			bill = 100
		}
		return fmt.Sprintf("A shop sells pens for $%d each and notebooks for $%d each. %s buys %d pens and %d notebooks and pays with a $%d bill. How much change does %s get?",
				pen, book, name, np, nb, bill, name),
			fmt.Sprintf("The pens cost %d × $%d = $%d and the notebooks %d × $%d = $%d, $%d in total, so the change is $%d - $%d = $%d.",
				np, pen, pen*np, nb, book, book*nb, total, bill, total, bill-total)
	case 1:
		s1, t1, s2, t2 := between(r, 40, 120), between(r, 1, 4), between(r, 40, 120), between(r, 1, 4)
		return fmt.Sprintf("A train travels at %d km/h for %d hours, then at %d km/h for %d hours. How far does it travel in total, and what is its average speed?", s1, t1, s2, t2),
			fmt.Sprintf("It covers %d + %d = %d km in %d hours, an average of %s km/h.", s1*t1, s2*t2, s1*t1+s2*t2, t1+t2,
				strconv.FormatFloat(float64(s1*t1+s2*t2)/float64(t1+t2), 'f', 1, 64))
	case 2:
		in := between(r, 8, 30)
		out := between(r, 2, in-2)
		minutes := between(r, 10, 60)
		v := (in - out) * minutes
		return fmt.Sprintf("A tank holds %d liters. One pipe fills it at %d liters per minute while a leak drains %d liters per minute. Starting empty, how many minutes until the tank is full?", v, in, out),
			fmt.Sprintf("The tank gains %d - %d = %d liters a minute, so it is full after %d / %d = %d minutes.", in, out, in-out, v, in-out, minutes)
	case 3:
		price := 20 * between(r, 2, 15)
		off := pick(r, []int{10, 20, 25, 30})
		tax := pick(r, []int{5, 8, 10})
		discounted := float64(price) * float64(100-off) / 100
		final := discounted * float64(100+tax) / 100
		return fmt.Sprintf("A jacket costs $%d. It is discounted by %d%%, and then a %d%% sales tax is added to the discounted price. What is the final price?", price, off, tax),
			fmt.Sprintf("After the discount it costs $%s; with tax the final price is $%s.",
				strconv.FormatFloat(discounted, 'f', 2, 64), strconv.FormatFloat(final, 'f', 2, 64))
	default:
		young, k, years := between(r, 3, 20), between(r, 2, 4), between(r, 2, 10)
		sum := k*young + young + 2*years
		return fmt.Sprintf("%s is %d times as old as her nephew. In %d years the sum of their ages will be %d. How old is the nephew now?", name, k, years, sum),
			fmt.Sprintf("If the nephew is x, then %dx + x + %d = %d, so x = %d. The nephew is %d.", k, 2*years, sum, young, young)
	}
}

func codeFunction(r *rand.Rand) (string, string) {
	task, lang := pick(r, codeTasks()), pick(r, languages())
	form := pick(r, []string{"Write a %s function that %s.", "Implement a function in %s that %s. Include a short usage example."})
	return fmt.Sprintf(form, lang, task), ""
}

func explanation(r *rand.Rand) (string, string) {
	return fmt.Sprintf("Explain %s %s.", pick(r, explainTopics()), pick(r, audiences())), ""
}

func summary(r *rand.Rand) (string, string) {
	return pick(r, summaryInstructions()) + "\n\n" + pick(r, passages()), ""
}

func counting(r *rand.Rand) (string, string) {
	switch r.IntN(4) {
	case 0:
		primes := r.Perm(6)
		ps := []int{2, 3, 5, 7, 11, 13}
		a, b, c := ps[primes[0]], ps[primes[1]], ps[primes[2]]
		n := 100 * between(r, 10, 100)
		count := 0
		for i := 1; i <= n; i++ {
			if (i%a == 0 || i%b == 0) && i%c != 0 {
				count++
			}
		}
		return fmt.Sprintf("How many positive integers less than or equal to %d are divisible by %d or %d but not by %d? Show your reasoning.", n, a, b, c),
			fmt.Sprintf("By inclusion-exclusion, %d of them.", count)
	case 1:
		a, b := between(r, 3, 9), between(r, 3, 9)
		for b == a {
			b = between(r, 3, 9)
		}
		n := 100 * between(r, 5, 100)
		sum := 0
		for i := 1; i < n; i++ {
			if i%a == 0 || i%b == 0 {
				sum += i
			}
		}
		return fmt.Sprintf("Find the sum of all positive integers below %d that are multiples of %d or %d.", n, a, b),
			fmt.Sprintf("Summing the arithmetic series for %d and %d and subtracting the multiples of both gives %d.", a, b, sum)
	case 2:
		n := between(r, 10, 35)
		t := []int{1, 1, 2} // ways to climb 0, 1, 2 steps
		for i := 3; i <= n; i++ {
			t = append(t, t[i-1]+t[i-2]+t[i-3])
		}
		return fmt.Sprintf("In how many different ways can you climb a staircase of %d steps if you may take 1, 2 or 3 steps at a time? Explain the recurrence you use.", n),
			fmt.Sprintf("With w(n) = w(n-1) + w(n-2) + w(n-3), w(0) = 1, w(1) = 1, w(2) = 2, there are %d ways.", t[n])
	default:
		base, exp := between(r, 2, 30), between(r, 50, 500)
		mod := pick(r, []int{7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 97})
		res := 1
		for i := 0; i < exp; i++ {
			res = res * base % mod
		}
		return fmt.Sprintf("What is the remainder when %d^%d is divided by %d? Justify each step.", base, exp, mod),
			fmt.Sprintf("Reducing the exponent with Fermat's little theorem, the remainder is %d.", res)
	}
}

func proof(r *rand.Rand) (string, string) {
	form := pick(r, []string{"Prove that %s.", "Give a rigorous proof that %s, stating each step."})
	return fmt.Sprintf(form, pick(r, proofStatements())), ""
}

func design(r *rand.Rand) (string, string) {
	sys, constraint := pick(r, systems()), pick(r, designConstraints())
	if r.IntN(2) == 0 {
		return fmt.Sprintf("Design %s %s. Cover the data model, the main components, scaling, failure modes and the trade-offs you would make.", sys, constraint), ""
	}
	return fmt.Sprintf("Propose an architecture for %s %s, and explain how you would test it and roll it out safely.", sys, constraint), ""
}

func hardCode(r *rand.Rand) (string, string) {
	return fmt.Sprintf("Implement %s in %s. Explain the design and its complexity, and include tests.", pick(r, hardCodeTasks()), pick(r, languages())), ""
}
