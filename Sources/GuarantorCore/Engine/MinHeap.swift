/// A binary min-heap.
public struct MinHeap<Element: Comparable & Sendable>: Sendable {
    public private(set) var elements: [Element] = []

    public init() {}

    public var isEmpty: Bool { elements.isEmpty }
    public var count: Int { elements.count }
    public var first: Element? { elements.first }

    public mutating func push(_ element: Element) {
        elements.append(element)
        var child = elements.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard elements[child] < elements[parent] else { break }
            elements.swapAt(child, parent)
            child = parent
        }
    }

    @discardableResult public mutating func pop() -> Element? {
        guard !elements.isEmpty else { return nil }
        elements.swapAt(0, elements.count - 1)
        let first = elements.removeLast()
        var parent = 0
        while true {
            let left = 2 * parent + 1, right = left + 1
            var smallest = parent
            if left < elements.count && elements[left] < elements[smallest] { smallest = left }
            if right < elements.count && elements[right] < elements[smallest] { smallest = right }
            guard smallest != parent else { break }
            elements.swapAt(parent, smallest)
            parent = smallest
        }
        return first
    }
}

/// A priority queue for elements that mostly arrive in order (event times of a feed): those not smaller than the
/// last one in order go to a first-in-first-out run, the rest to a heap; the least of the two heads comes out first.
struct MostlyOrderedQueue<Element: Comparable & Sendable>: Sendable {
    private var run: [Element] = []
    private var head = 0
    private var heap = MinHeap<Element>()

    var isEmpty: Bool { head == run.count && heap.isEmpty }

    var first: Element? {
        let a = head < run.count ? run[head] : nil
        guard let b = heap.first else { return a }
        guard let a else { return b }
        return b < a ? b : a
    }

    mutating func push(_ element: Element) {
        if head == run.count || !(element < run[run.count - 1]) {
            run.append(element)
        } else {
            heap.push(element)
        }
    }

    @discardableResult mutating func pop() -> Element? {
        let a = head < run.count ? run[head] : nil
        if let b = heap.first, a == nil || b < a! { return heap.pop() }
        guard a != nil else { return nil }
        head += 1
        if head == run.count {
            run.removeAll(keepingCapacity: true)
            head = 0
        } else if head >= 4_096 && head * 2 >= run.count {
            run.removeFirst(head)
            head = 0
        }
        return a
    }

    /// Every element, in no particular order.
    var elements: [Element] { Array(run[head...]) + heap.elements }
}
