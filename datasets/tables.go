package datasets

// The small built-in tables the generator draws prompts from. They are
// functions returning fresh values, not package variables, so that nothing
// can change them between runs and break determinism.

type capital struct{ country, city string }

func capitals() []capital {
	return []capital{
		{"France", "Paris"}, {"Japan", "Tokyo"}, {"Australia", "Canberra"}, {"Canada", "Ottawa"},
		{"Brazil", "Brasília"}, {"Egypt", "Cairo"}, {"Kenya", "Nairobi"}, {"India", "New Delhi"},
		{"Germany", "Berlin"}, {"Italy", "Rome"}, {"Spain", "Madrid"}, {"Portugal", "Lisbon"},
		{"Norway", "Oslo"}, {"Sweden", "Stockholm"}, {"Finland", "Helsinki"}, {"Poland", "Warsaw"},
		{"Turkey", "Ankara"}, {"Argentina", "Buenos Aires"}, {"Chile", "Santiago"}, {"Peru", "Lima"},
		{"Mexico", "Mexico City"}, {"South Korea", "Seoul"}, {"Vietnam", "Hanoi"}, {"Thailand", "Bangkok"},
		{"Indonesia", "Jakarta"}, {"New Zealand", "Wellington"}, {"Nigeria", "Abuja"}, {"Morocco", "Rabat"},
		{"Switzerland", "Bern"}, {"Austria", "Vienna"}, {"Ireland", "Dublin"}, {"Greece", "Athens"},
		{"Hungary", "Budapest"}, {"Czechia", "Prague"}, {"Pakistan", "Islamabad"}, {"Colombia", "Bogotá"},
		{"Ghana", "Accra"}, {"Iceland", "Reykjavík"}, {"Denmark", "Copenhagen"}, {"Philippines", "Manila"},
	}
}

type definition struct{ term, meaning string }

func definitions() []definition {
	return []definition{
		{"photosynthesis", "Photosynthesis is the process by which plants, algae and some bacteria use light energy to turn carbon dioxide and water into glucose and oxygen."},
		{"an algorithm", "An algorithm is a finite, well-defined sequence of steps that solves a problem or computes a result."},
		{"inflation", "Inflation is the general rise in prices across an economy over time, which lowers the purchasing power of money."},
		{"a prime number", "A prime number is a whole number greater than 1 whose only divisors are 1 and itself."},
		{"entropy", "Entropy is a measure of disorder, or of the number of microscopic states consistent with a system's macroscopic state."},
		{"a compiler", "A compiler is a program that translates source code in one language into another, usually machine code, before it runs."},
		{"osmosis", "Osmosis is the movement of water through a semi-permeable membrane from a region of lower to higher solute concentration."},
		{"democracy", "Democracy is a system of government in which power rests with the people, who rule directly or through elected representatives."},
		{"a mutex", "A mutex is a lock that lets only one thread at a time enter a critical section of code."},
		{"latency", "Latency is the time between a request being made and its response beginning to arrive."},
		{"a black hole", "A black hole is a region of spacetime whose gravity is so strong that nothing, not even light, can escape it."},
		{"machine learning", "Machine learning is the study of algorithms that improve at a task by learning patterns from data rather than following explicit rules."},
		{"a derivative", "A derivative measures how a function's output changes as its input changes, the slope of the function at a point."},
		{"GDP", "GDP, gross domestic product, is the total market value of all final goods and services produced in a country in a period."},
		{"an API", "An API is a defined interface through which one piece of software can request services or data from another."},
		{"a catalyst", "A catalyst is a substance that speeds up a chemical reaction without being consumed by it."},
		{"a metaphor", "A metaphor is a figure of speech that describes something by saying it is something else, as in 'time is a thief'."},
		{"opportunity cost", "Opportunity cost is the value of the best alternative given up when making a choice."},
		{"a firewall", "A firewall is a system that monitors network traffic and blocks or allows it according to security rules."},
		{"mitosis", "Mitosis is the division of a cell's nucleus into two genetically identical nuclei."},
		{"recursion", "Recursion is a method of solving a problem in which a function calls itself on smaller instances of the same problem."},
		{"a hypothesis", "A hypothesis is a testable proposed explanation for an observation."},
		{"bandwidth", "Bandwidth is the maximum rate at which data can be transferred over a network connection."},
		{"an ecosystem", "An ecosystem is a community of living organisms interacting with each other and with their physical environment."},
		{"a vaccine", "A vaccine is a preparation that trains the immune system to recognise and fight a specific pathogen."},
		{"encryption", "Encryption is the encoding of information so that only parties with the right key can read it."},
		{"a stock", "A stock is a share of ownership in a company that entitles its holder to part of the company's assets and earnings."},
		{"gravity", "Gravity is the force by which masses attract one another."},
		{"a cache", "A cache is a small, fast store that keeps copies of frequently used data to serve later requests faster."},
		{"an idiom", "An idiom is a phrase whose meaning cannot be worked out from the meanings of its individual words."},
		{"biodiversity", "Biodiversity is the variety of life in a particular habitat or on Earth as a whole."},
		{"a neuron", "A neuron is a nerve cell that transmits information through electrical and chemical signals."},
		{"a load balancer", "A load balancer distributes incoming requests across several servers so that no single server is overwhelmed."},
		{"erosion", "Erosion is the wearing away of land or rock by water, wind or ice."},
		{"a protocol", "A protocol is a set of rules that governs how data is exchanged between systems."},
		{"compound interest", "Compound interest is interest calculated on both the initial principal and the interest already added to it."},
		{"a virus", "A virus is a microscopic infectious agent that can only replicate inside the living cells of a host."},
		{"an index in a database", "A database index is a data structure that speeds up lookups on a column at the cost of extra storage and slower writes."},
		{"supply chain", "A supply chain is the network of organisations and steps involved in producing and delivering a product to customers."},
		{"a container image", "A container image is a packaged, immutable file system and configuration from which containers are started."},
	}
}

type unit struct {
	from, to string
	factor   float64 // to = from*factor + offset
	offset   float64
}

func units() []unit {
	return []unit{
		{"kilometers", "miles", 0.621371, 0}, {"miles", "kilometers", 1.609344, 0},
		{"kilograms", "pounds", 2.204623, 0}, {"pounds", "kilograms", 0.453592, 0},
		{"liters", "US gallons", 0.264172, 0}, {"US gallons", "liters", 3.785412, 0},
		{"inches", "centimeters", 2.54, 0}, {"feet", "meters", 0.3048, 0},
		{"meters", "feet", 3.280840, 0}, {"ounces", "grams", 28.349523, 0},
		{"degrees Celsius", "degrees Fahrenheit", 1.8, 32}, {"hours", "seconds", 3600, 0},
		{"square meters", "square feet", 10.763910, 0}, {"kilowatt-hours", "megajoules", 3.6, 0},
	}
}

func codeTasks() []string {
	return []string{
		"returns the n-th Fibonacci number",
		"checks whether a string is a palindrome, ignoring case and punctuation",
		"reverses the order of the words in a sentence",
		"counts the vowels in a string",
		"returns the second largest number in a list",
		"merges two sorted lists into one sorted list",
		"removes duplicates from a list while keeping the original order",
		"converts a Roman numeral to an integer",
		"flattens an arbitrarily nested list",
		"computes the greatest common divisor of two integers",
		"returns the most frequent word in a text",
		"checks whether two strings are anagrams of each other",
		"parses a 'key=value;key=value' string into a map",
		"rotates a square matrix 90 degrees clockwise",
		"finds the first non-repeating character in a string",
		"checks whether the brackets in a string are balanced",
		"splits a list into chunks of size n",
		"returns all prime numbers below n using the sieve of Eratosthenes",
		"converts a number of seconds into an 'HH:MM:SS' string",
		"computes the running average of a stream of numbers",
	}
}

func languages() []string { return []string{"Python", "Go", "JavaScript", "Rust"} }

func hardCodeTasks() []string {
	return []string{
		"a thread-safe LRU cache with a per-entry time-to-live",
		"a token-bucket rate limiter that is safe for concurrent use",
		"a parser and evaluator for arithmetic expressions with operator precedence and parentheses",
		"a key-value store with a write-ahead log that recovers after a crash",
		"a concurrent web crawler with a depth limit and per-host politeness delays",
		"Dijkstra's shortest-path algorithm over a graph read from a file, with path reconstruction",
		"a trie-based autocomplete that ranks suggestions by frequency",
		"a consistent-hashing ring with virtual nodes and minimal key movement on rebalancing",
		"an interval tree supporting insertion, deletion and overlap queries",
		"a job queue with retries, exponential backoff with jitter and a dead-letter queue",
		"a simulation of Raft leader election between five nodes",
		"Myers' diff algorithm producing a unified diff of two text files",
	}
}

func explainTopics() []string {
	return []string{
		"the difference between TCP and UDP",
		"how HTTPS keeps a connection private",
		"what a database index is and why it slows writes down",
		"how garbage collection works in Go",
		"why the sky is blue",
		"how vaccines train the immune system",
		"the difference between a process and a thread",
		"how compound interest works",
		"what causes inflation",
		"how public-key cryptography works",
		"how a hash map handles collisions",
		"what Big-O notation measures",
		"why the Earth has seasons",
		"how photosynthesis stores energy",
		"the difference between RAM and disk storage",
		"how DNS turns a domain name into an IP address",
		"what a REST API is",
		"how a neural network learns from data",
		"what the CAP theorem says",
		"how git branches and merges work",
		"the difference between weather and climate",
		"how supply and demand set prices",
		"how containers differ from virtual machines",
		"what eventual consistency means",
		"how a CPU cache speeds up programs",
	}
}

func audiences() []string {
	return []string{"to a beginner", "to a high-school student", "in two short paragraphs", "with a concrete example"}
}

func passages() []string {
	return []string{
		"The city council voted on Tuesday to convert two downtown parking garages into mixed-use buildings with affordable housing on the upper floors and shops at street level. Supporters argued that the garages were rarely more than half full since the new tram line opened, while opponents worried about delivery access for nearby restaurants. Construction is expected to start next spring and take about two years.",
		"Researchers tracking a population of honeybees found that colonies near flowering hedgerows produced a third more honey than colonies surrounded by single-crop fields. The hedgerows offered a steady supply of pollen from early spring to late autumn, whereas the crops bloomed for only a few weeks. The team recommends that farmers plant mixed hedges along field edges.",
		"Our team migrated the billing service from a single PostgreSQL instance to a primary with two read replicas. Read-heavy reports now run on the replicas, which cut p99 latency on the checkout path from 900 ms to 220 ms. We saw replication lag of up to four seconds during batch imports, so invoices are still read from the primary immediately after they are written.",
		"The museum's new exhibition brings together more than two hundred maps drawn between the fifteenth and nineteenth centuries. Visitors can follow how the outline of coastlines sharpened as navigation instruments improved, and how mapmakers filled unexplored interiors with imagined mountains and sea monsters. The exhibition closes at the end of March.",
		"A small bakery switched from paper order slips to a tablet-based ordering system. In the first month, order mistakes fell by half and the owner could see which pastries sold out early each day, which let her bake more of them. Staff needed about a week to get used to the system, and the older oven schedule had to be adjusted.",
		"Sleep researchers asked volunteers to learn a list of word pairs in the evening and tested them the next morning. Those who slept normally remembered significantly more pairs than those kept awake, even after a recovery night. The authors suggest that sleep helps move new memories from short-term to long-term storage.",
		"The open-source project announced that its next major version will drop support for the oldest two operating system releases. Maintainers said testing on those platforms took a growing share of their time while fewer than two percent of users still ran them. Users on older systems can keep using the current version, which will receive security fixes for one more year.",
		"After a dry summer, the reservoir that supplies the region fell to forty percent of capacity. The water authority introduced a ban on garden hoses and asked households to cut use by ten percent. Officials said that normal autumn rainfall would refill the reservoir by spring, but that a second dry year would require stricter measures.",
	}
}

func summaryInstructions() []string {
	return []string{
		"Summarize the following text in one sentence:",
		"Summarize the following text as three bullet points:",
		"Give a one-line TL;DR of this text:",
	}
}

func proofStatements() []string {
	return []string{
		"the square root of 2 is irrational",
		"there are infinitely many prime numbers",
		"the sum of the first n odd numbers is n squared",
		"every tree with n vertices has exactly n - 1 edges",
		"the halting problem is undecidable",
		"a graph is bipartite if and only if it contains no odd cycle",
		"the product of any three consecutive integers is divisible by 6",
		"log base 2 of 3 is irrational",
		"a set with n elements has 2^n subsets",
		"every comparison-based sorting algorithm needs Omega(n log n) comparisons in the worst case",
		"Dijkstra's algorithm finds shortest paths when all edge weights are non-negative",
		"the real numbers are uncountable",
		"in any group of six people there are three mutual friends or three mutual strangers",
		"n^5 - n is divisible by 30 for every integer n",
		"every finite integral domain is a field",
		"a continuous function on a closed bounded interval attains its maximum",
		"V - E + F = 2 for every connected planar graph",
		"choosing the interval that finishes earliest first gives an optimal interval schedule",
		"every integer greater than 1 has a unique factorisation into primes",
		"the harmonic series diverges",
	}
}

func systems() []string {
	return []string{
		"a URL shortener", "a rate limiter for a public API", "a distributed job scheduler",
		"a chat service with presence and message history", "a personalised news feed",
		"a metrics ingestion pipeline", "a ride-sharing dispatch system",
		"a collaborative document editor", "a double-entry payment ledger", "a polite web crawler",
		"a feature-flag service", "a video transcoding pipeline", "a search autocomplete service",
		"an LLM gateway that routes prompts between models by cost",
	}
}

func designConstraints() []string {
	return []string{
		"that handles 50,000 requests per second with 99.99% availability",
		"for a team of three engineers on a small budget",
		"that runs in three regions and keeps writes strongly consistent",
	}
}

func names() []string {
	return []string{"Maria", "Ken", "Aisha", "Tom", "Lena", "Ravi", "Sofia", "Omar", "Mei", "Jonas", "Priya", "Diego"}
}
